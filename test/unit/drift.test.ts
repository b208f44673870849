import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { clusterDrift, formatDrift, liveSources, versionSkew } from '../../tasks/lib/crds/crd-drift.ts';

const crd = (name: string, annotations: Record<string, string> = {}): KubernetesObject => ({ metadata: { name, annotations } });

describe('drift', () => {
  it('reports missing, differing, orphaned and unmanaged CRDs', () => {
    const plan = {
      entries: [
        { name: 'a.x.io', action: 'create' as const, release: 'r', bytes: 1, breaking: [] },
        { name: 'b.x.io', action: 'update' as const, release: 'r', bytes: 1, breaking: [] },
        { name: 'c.x.io', action: 'unchanged' as const, release: 'r', bytes: 1, breaking: [] },
      ],
      orphaned: ['old.x.io'],
    };
    const live = [crd('b.x.io'), crd('c.x.io'), crd('old.x.io'), crd('hand.y.io'), crd('helm.z.io', { 'meta.helm.sh/release-name': 'z' })];
    const findings = clusterDrift(plan, live, new Set(['a.x.io', 'b.x.io', 'c.x.io']), (o) => o.metadata?.name === 'old.x.io');
    expect(findings.map((f) => `${f.kind} ${f.subject}`)).toEqual(['missing a.x.io', 'differs b.x.io', 'unmanaged hand.y.io', 'orphaned old.x.io']);
  });

  it('finds the same CRD from different chart versions across clusters', () => {
    const sources = new Map([
      ['infra', liveSources([crd('vmrules.v', { 'cluster-bootstrap.io/source': 'vm@0.15.0' }), crd('same.v', { 'cluster-bootstrap.io/source': 'x@1' })])],
      ['apps', liveSources([crd('vmrules.v', { 'cluster-bootstrap.io/source': 'vm@0.14.0' }), crd('same.v', { 'cluster-bootstrap.io/source': 'x@1' })])],
    ]);
    const skew = versionSkew('infra', sources);
    expect(skew).toEqual([{ kind: 'version-skew', subject: 'vmrules.v', detail: 'infra has vm@0.15.0; apps has vm@0.14.0' }]);
    expect(formatDrift('infra', skew)).toBe('version-skew  vmrules.v  infra has vm@0.15.0; apps has vm@0.14.0\ninfra: 1 finding(s)');
    expect(formatDrift('apps', [])).toBe('apps: no drift');
  });
});
