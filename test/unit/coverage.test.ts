import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../tasks/lib/crd-bundle.ts';
import { auditCoverage, formatCoverage, kindUses } from '../../tasks/lib/coverage.ts';

const entry = (group: string, kind: string, versions: string[], release: string): ManifestEntry => ({
  name: `${kind.toLowerCase()}s.${group}`,
  group,
  kind,
  plural: `${kind.toLowerCase()}s`,
  scope: 'Namespaced',
  versions,
  storageVersion: versions[0]!,
  bytes: 1,
  sha256: '',
  release,
});

const uses = kindUses([
  { apiVersion: 'v1', kind: 'ConfigMap', file: 'a.yaml' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', file: 'b.yaml' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', file: 'c.yaml' },
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', file: 'd.yaml' },
  { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', file: 'e.yaml' },
  { apiVersion: 'cert-manager.io/v1alpha2', kind: 'Certificate', file: 'f.yaml' },
]);
const builtin = new Set(['v1 ConfigMap', 'apps/v1 Deployment']);

describe('coverage audit', () => {
  it('groups kinds with the files that use them', () => {
    expect(uses.find((u) => u.kind === 'PrometheusRule')?.files).toEqual(['b.yaml', 'c.yaml']);
  });

  it('resolves kinds to built-in, bundle, core-only or missing (by group, kind and served version)', () => {
    const bundle = [entry('monitoring.coreos.com', 'PrometheusRule', ['v1'], 'prometheus-operator-crds'), entry('cert-manager.io', 'Certificate', ['v1'], 'cert-manager')];
    const core = [entry('cilium.io', 'CiliumNetworkPolicy', ['v2'], 'cilium')];
    const result = auditCoverage(uses, builtin, bundle, core);
    expect(result.map((r) => `${r.apiVersion} ${r.kind}: ${r.status}${r.release ? ` (${r.release})` : ''}`)).toEqual([
      'cert-manager.io/v1 Certificate: bundle (cert-manager)',
      'cert-manager.io/v1alpha2 Certificate: missing',
      'cilium.io/v2 CiliumNetworkPolicy: core-only (cilium)',
      'monitoring.coreos.com/v1 PrometheusRule: bundle (prometheus-operator-crds)',
      'v1 ConfigMap: builtin',
    ]);
  });

  it('without the Prometheus CRD chart, names PrometheusRule and every file that uses it (E2)', () => {
    const report = formatCoverage(auditCoverage(uses, builtin, [], []));
    expect(report).toContain(
      '✗ monitoring.coreos.com/v1 PrometheusRule: no CRD in the bundle serves it: add the chart that defines it to helmfile.d/00-crds\n    used by b.yaml\n    used by c.yaml',
    );
    expect(report.split('\n').at(-1)).toBe('5 kinds used, 4 not served by the CRD phase');
  });
});
