import { describe, expect, it } from 'vitest';
import { gatedFinding } from '../../tasks/lib/gitops/capability-gated.ts';
import { operatorServedKinds, treeServedKinds } from '../../tasks/lib/gitops/flux-audit.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import type { HelmReleaseCrds } from '../../tasks/lib/gitops/helmrelease-crds.ts';

function ks(id: string, over: Partial<FluxKustomization> = {}): FluxKustomization {
  const [namespace, name] = id.split('/') as [string, string];
  return { id, name, namespace, path: `./apps/${name}`, file: `apps/${name}/ks.yaml`, dependsOn: [], wait: false, healthChecks: [], objects: [], unresolved: [], ...over };
}

function release(kustomization: string, name: string, crds: HelmReleaseCrds['crds'] = []): HelmReleaseCrds {
  const [namespace] = kustomization.split('/') as [string];
  return {
    kustomization, name, namespace, file: `apps/${name}/helmrelease.yaml`, releaseName: name, targetNamespace: namespace, storageNamespace: namespace, missingValues: [],
    chart: { url: `oci://ghcr.io/charts/${name}`, version: '1.0.0', file: `apps/${name}/ocirepository.yaml` }, installCrds: 'Create', upgradeCrds: 'Skip', values: {}, crds,
  };
}

const serviceMonitor = { group: 'monitoring.coreos.com', kind: 'ServiceMonitor', versions: ['v1'] };
const promCrds = release('observability/prometheus-operator-crds', 'prometheus-operator-crds', [serviceMonitor]);
const externalSecrets = release('external-secrets/external-secrets', 'external-secrets');
const crdObject = { file: 'apps/x/crd.yaml', object: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' }, spec: { group: 'example.com', names: { kind: 'Widget' }, versions: [{ name: 'v1', served: true }] } } };

describe('treeServedKinds', () => {
  it('serves, when a Kustomization applies, the CRDs applied by it or below it and the CRDs of waited-for HelmReleases below it', () => {
    const tree = [
      ks('observability/prometheus-operator-crds', { wait: true }),
      ks('external-secrets/external-secrets', { objects: [crdObject] }),
      ks('default/app', { dependsOn: ['observability/prometheus-operator-crds'] }),
    ];
    const kinds = (at?: string) => treeServedKinds(tree, [promCrds, externalSecrets], at).map((k) => `${k.kind} by ${k.by}`);
    expect(kinds('external-secrets/external-secrets')).toEqual(['Widget by a CRD in external-secrets/external-secrets']);
    expect(kinds('default/app')).toEqual(['ServiceMonitor by HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds']);
    expect(kinds()).toEqual(['Widget by a CRD in external-secrets/external-secrets', 'ServiceMonitor by HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds']);
    // A dependency that does not wait is Ready before its chart has installed anything.
    const noWait = tree.map((k) => (k.id === 'observability/prometheus-operator-crds' ? { ...k, wait: false } : k));
    expect(treeServedKinds(noWait, [promCrds], 'default/app')).toEqual([]);
  });
});

describe('operatorServedKinds', () => {
  const pool = { file: 'apps/cilium/pool.yaml', object: { apiVersion: 'cilium.io/v2', kind: 'CiliumLoadBalancerIPPool', metadata: { name: 'pool' } } };
  const policy = { file: 'apps/app/policy.yaml', object: { apiVersion: 'rabbitmq.com/v1beta1', kind: 'RabbitmqCluster', metadata: { name: 'mq' } } };
  const tree = [
    ks('kube-system/cilium-config', { objects: [pool] }),
    ks('mq/operator', { wait: true }),
    ks('default/app', { dependsOn: ['mq/operator'], objects: [policy] }),
    ks('default/early', {}),
  ];
  const operators = [
    { name: 'cilium-operator', release: 'cilium', groups: ['cilium.io'] },
    { name: 'rabbitmq-operator', release: 'rabbitmq-operator', groups: ['rabbitmq.com'] },
  ];
  const bootstrap = [{ name: 'cilium', chart: 'quay.io/cilium/charts/cilium', version: '1.19.7', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true }];
  const runner = release('mq/operator', 'rabbitmq-operator');
  const kinds = (at?: string) => operatorServedKinds(tree, [runner], operators, bootstrap, at).map((k) => `${k.group}/${k.versions[0]}/${k.kind} by ${k.by}`);

  it('the kinds the tree uses of an operator\'s groups, at the versions it uses them: from the start for an operator core installs, behind a waited-for HelmRelease otherwise', () => {
    const cilium = 'cilium.io/v2/CiliumLoadBalancerIPPool by cilium-operator at run time (bootstrap release cilium)';
    const rabbit = 'rabbitmq.com/v1beta1/RabbitmqCluster by rabbitmq-operator at run time (HelmRelease mq/rabbitmq-operator in mq/operator)';
    expect(kinds('default/early')).toEqual([cilium]);
    expect(kinds('default/app')).toEqual([cilium, rabbit]);
    expect(kinds()).toEqual([cilium, rabbit]);
  });
});

describe('gatedFinding', () => {
  const everything = treeServedKinds([ks('observability/prometheus-operator-crds', { wait: true })], [promCrds]);
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-secrets-metrics', namespace: 'external-secrets' } };
  const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'external-secrets-metrics', namespace: 'external-secrets' } };
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'external-secrets', namespace: 'external-secrets' } };

  it('objects only a render with everything served has: never created, with the kind, what serves it and both fixes', () => {
    const finding = gatedFinding(externalSecrets, { objects: [deployment] }, [deployment, service, monitor], new Set(), everything);
    expect(finding).toEqual({
      type: 'capability-gated',
      kustomization: 'external-secrets/external-secrets',
      file: 'apps/external-secrets/helmrelease.yaml',
      kind: 'monitoring.coreos.com/v1 ServiceMonitor',
      gated: {
        helmRelease: 'external-secrets/external-secrets',
        objects: [
          { apiVersion: 'v1', kind: 'Service', namespace: 'external-secrets', name: 'external-secrets-metrics' },
          { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: 'external-secrets', name: 'external-secrets-metrics' },
        ],
      },
      message:
        'HelmRelease external-secrets/external-secrets renders Service external-secrets/external-secrets-metrics, ServiceMonitor external-secrets/external-secrets-metrics only where monitoring.coreos.com/v1 ServiceMonitor (HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds) is served, which is not yet when external-secrets/external-secrets applies; helm-controller renders a release once, so they are never created',
      fix: 'put the CRDs of ServiceMonitor in helmfile.d/00-crds (served before any Kustomization), or add dependsOn observability/prometheus-operator-crds to external-secrets/external-secrets (waiting for it)',
    });
  });

  it('the same objects either way: nothing to say', () => {
    expect(gatedFinding(externalSecrets, { objects: [deployment, monitor] }, [deployment, monitor], new Set(), everything)).toBeUndefined();
  });

  it('a chart that fails without the kind (cilium without trustCRDsExist): Flux\'s install fails, said with helm\'s words', () => {
    const finding = gatedFinding(release('kube-system/cilium', 'cilium'), { failed: 'execution error at (cilium/templates/validate.yaml:4:4): Service Monitor requires monitoring.coreos.com/v1 CRDs.' }, [deployment, monitor], new Set(), everything);
    expect(finding?.gated).toEqual({ helmRelease: 'kube-system/cilium', objects: [] });
    expect(finding?.message).toBe(
      "HelmRelease kube-system/cilium does not render with what is served when kube-system/cilium applies (execution error at (cilium/templates/validate.yaml:4:4): Service Monitor requires monitoring.coreos.com/v1 CRDs.), but does once the tree serves monitoring.coreos.com/v1 ServiceMonitor (HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds): Flux's install fails",
    );
  });
});
