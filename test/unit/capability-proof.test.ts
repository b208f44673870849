// The audit's capability-gated findings against what the rehearsal's cluster holds after Flux.
import { describe, expect, it } from 'vitest';
import type { Finding, GatedObject } from '../../tasks/lib/gitops/flux-audit.ts';
import { proveCapabilities } from '../../tasks/lib/rehearsal/capability-proof.ts';

const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: 'external-secrets', name: 'external-secrets-metrics' };
const gated = (helmRelease: string, objects: GatedObject[]): Finding => ({
  type: 'capability-gated',
  kustomization: helmRelease,
  file: 'helmrelease.yaml',
  message: '…',
  fix: '…',
  gated: { helmRelease, objects },
});
const none = async () => false;

describe('proveCapabilities', () => {
  it('agrees where the release installed without the object, differs where the object exists', async () => {
    const installed = [{ release: 'external-secrets/external-secrets', ready: true, message: 'installed' }];
    expect(await proveCapabilities([gated('external-secrets/external-secrets', [monitor])], installed, none)).toEqual([
      {
        helmRelease: 'external-secrets/external-secrets',
        kustomization: 'external-secrets/external-secrets',
        audit: 'never creates ServiceMonitor external-secrets/external-secrets-metrics',
        rehearsal: 'installed without them',
        agreed: true,
      },
    ]);
    const [differs] = await proveCapabilities([gated('external-secrets/external-secrets', [monitor])], installed, async (o) => o.kind === 'ServiceMonitor');
    expect(differs).toMatchObject({ agreed: false, rehearsal: 'installed, and created ServiceMonitor external-secrets/external-secrets-metrics' });
    expect(differs?.unjudged).toBeUndefined();
  });

  it('judges a release by its last event, and leaves one never installed unjudged', async () => {
    const events = [
      { release: 'external-secrets/external-secrets', ready: true, message: 'installed' },
      { release: 'external-secrets/external-secrets', ready: false, message: "dependency 'x/y' is not ready" },
    ];
    expect(await proveCapabilities([gated('external-secrets/external-secrets', [monitor])], events, none)).toEqual([expect.objectContaining({ agreed: false, unjudged: true })]);
    expect(await proveCapabilities([gated('external-secrets/external-secrets', [monitor])], [], none)).toEqual([expect.objectContaining({ rehearsal: 'never installed', unjudged: true })]);
  });

  it('a chart that fails without the kind: agreed when its install failed, not when it installed', async () => {
    const cilium = gated('kube-system/cilium', []);
    expect(await proveCapabilities([cilium], [{ release: 'kube-system/cilium', ready: false, message: 'Service Monitor requires monitoring.coreos.com/v1 CRDs' }], none)).toEqual([
      expect.objectContaining({ agreed: true, rehearsal: 'install failed: Service Monitor requires monitoring.coreos.com/v1 CRDs' }),
    ]);
    expect(await proveCapabilities([cilium], [{ release: 'kube-system/cilium', ready: true, message: 'installed' }], none)).toEqual([expect.objectContaining({ agreed: false, rehearsal: 'installed' })]);
  });

  it('only capability-gated findings are proven', async () => {
    const race: Finding = { type: 'race', kustomization: 'a/b', file: 'f', message: 'm', fix: 'x' };
    expect(await proveCapabilities([race], [], none)).toEqual([]);
  });
});
