// Core installs its releases against what the crds phase serves: an object of a kind served only
// later fails helmfile sync; an object gated on such a kind is left out of the release.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { coreCapabilityFindings } from '../../tasks/lib/gitops/core-capabilities.ts';
import type { TreeServedKind } from '../../tasks/lib/gitops/flux-audit.ts';

const cilium = { name: 'cilium', namespace: 'kube-system', chart: 'quay.io/cilium/charts/cilium', version: '1.19.7', values: {}, at: 'helmfile.d/01-core.yaml.gotmpl:22' };
const agent: KubernetesObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'cilium', namespace: 'kube-system' } };
const monitor: KubernetesObject = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'cilium-agent', namespace: 'kube-system' } };
const gatewayClass: KubernetesObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'cilium' } };
const builtin = new Set(['apps/v1 DaemonSet', 'v1 Service']);
const later: TreeServedKind[] = [
  { group: 'monitoring.coreos.com', kind: 'ServiceMonitor', versions: ['v1'], by: 'HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds', kustomization: 'observability/prometheus-operator-crds' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', versions: ['v1'], by: 'a CRD in network/gateway-api-crds', kustomization: 'network/gateway-api-crds' },
];
const twin = { kustomization: 'kube-system/cilium', file: 'kubernetes/apps/kube-system/cilium/app/helmrelease.yaml' } as Parameters<typeof coreCapabilityFindings>[5];

describe('coreCapabilityFindings', () => {
  it('an object of a kind the crds phase does not serve (a chart told to trust it): core fails, said at the HelmRelease that takes it over', () => {
    const [finding, ...rest] = coreCapabilityFindings(cilium, { atCore: [agent, monitor], atLast: [agent, monitor] }, builtin, new Set(), later, twin);
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      type: 'capability-gated',
      kustomization: 'kube-system/cilium',
      file: 'kubernetes/apps/kube-system/cilium/app/helmrelease.yaml',
      kind: 'monitoring.coreos.com/v1 ServiceMonitor',
      message:
        'core release kube-system/cilium (helmfile.d/01-core.yaml.gotmpl:22) renders ServiceMonitor kube-system/cilium-agent, whose kind monitoring.coreos.com/v1 ServiceMonitor the cluster does not serve after the crds phase (served by HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds): helmfile sync fails with "no matches for kind", and the bootstrap stops at core',
      fix: "put the CRDs of ServiceMonitor in helmfile.d/00-crds, or turn that object off in the release's values",
    });
  });

  it('served by the bundle: nothing to say', () => {
    expect(coreCapabilityFindings(cilium, { atCore: [agent, monitor], atLast: [agent, monitor] }, builtin, new Set(['monitoring.coreos.com/v1/ServiceMonitor']), later, twin)).toEqual([]);
  });

  it('an object gated on a kind served only later: a warning that core installs without it, at 01-core when the tree has no HelmRelease for it', () => {
    const [finding] = coreCapabilityFindings(cilium, { atCore: [agent], atLast: [agent, gatewayClass] }, builtin, new Set(), later, undefined);
    expect(finding).toMatchObject({ severity: 'warn', kustomization: '', file: 'helmfile.d/01-core.yaml.gotmpl', kind: 'gateway.networking.k8s.io/v1 GatewayClass' });
    expect(finding?.message).toBe(
      "core release kube-system/cilium (helmfile.d/01-core.yaml.gotmpl:22) renders GatewayClass cilium only where gateway.networking.k8s.io/v1 GatewayClass is served (by a CRD in network/gateway-api-crds), which the crds phase does not serve: core installs the release without it, and helm-controller's upgrade at the hand-off renders it only if the kind is served by then",
    );
  });
});
