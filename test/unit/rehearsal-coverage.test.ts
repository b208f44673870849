// The rehearsal's headline: what Flux really reconciled, and Ready Kustomizations whose
// HelmRelease was not rehearsed counted apart.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import { coverageLine, coverageOf, lastEvents } from '../../tasks/lib/rehearsal/rehearsal-coverage.ts';

const hr = (namespace: string, name: string): KubernetesObject => ({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { namespace, name } });
const ks = (id: string, objects: KubernetesObject[] = []) =>
  ({ id, name: id.split('/')[1]!, namespace: id.split('/')[0]!, path: '', file: 'ks.yaml', dependsOn: [], wait: false, healthChecks: [], unresolved: [], objects: objects.map((object) => ({ object, file: 'hr.yaml' })) }) as FluxKustomization;

describe('coverageOf', () => {
  const tree = [ks('flux-system/flux-system'), ks('kube-system/coredns', [hr('kube-system', 'coredns')]), ks('default/echo', [hr('default', 'echo')]), ks('default/never')];
  const verdicts = [
    { kustomization: 'flux-system/flux-system', outcome: 'ready' as const, seconds: 1, message: 'ok' },
    { kustomization: 'kube-system/coredns', outcome: 'ready' as const, seconds: 2, message: 'ok' },
    { kustomization: 'default/echo', outcome: 'not-ready' as const, seconds: 3, message: 'health check failed' },
  ];
  const events = [
    { release: 'kube-system/coredns', ready: false, notRehearsed: true, message: 'not rehearsed: the chart pins a Service clusterIP' },
    { release: 'default/echo', ready: false, message: 'Helm install failed' },
  ];

  it('counts Ready, reached and all Kustomizations, installed and all HelmReleases', () => {
    const coverage = coverageOf(tree, verdicts, events);
    expect(coverage.kustomizations).toEqual({ ready: 2, reached: 3, total: 4 });
    expect(coverage.helmReleases).toEqual({ installed: 0, total: 2 });
    expect(coverageLine(coverage)).toBe('Flux reconciled 2 of 4 Kustomizations to Ready (3 reached) and installed 0 of 2 HelmReleases');
  });

  it('flags a Ready Kustomization whose HelmRelease was not rehearsed, not one that failed', () => {
    expect(coverageOf(tree, verdicts, events).readyNotRehearsed).toEqual([
      { kustomization: 'kube-system/coredns', release: 'kube-system/coredns', message: 'not rehearsed: the chart pins a Service clusterIP' },
    ]);
  });

  it('judges a release by where it ended: a source not applied yet, then installed, was rehearsed', () => {
    const waited = [
      { release: 'kube-system/cilium', ready: false, notRehearsed: true, message: "not rehearsed: OCIRepository kube-system/cilium does not exist" },
      { release: 'kube-system/cilium', ready: true, message: 'installed' },
      ...events,
    ];
    expect(lastEvents(waited).filter((e) => e.notRehearsed).map((e) => e.release)).toEqual(['kube-system/coredns']);
    expect(coverageOf([...tree, ks('kube-system/cilium', [hr('kube-system', 'cilium')])], verdicts, waited).helmReleases).toEqual({ installed: 1, total: 3 });
  });
});
