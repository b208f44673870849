import { describe, expect, it } from 'vitest';
import { gatedFinding } from '../../tasks/lib/gitops/capability-gated.ts';
import { treeServedKinds } from '../../tasks/lib/gitops/flux-audit.ts';
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
