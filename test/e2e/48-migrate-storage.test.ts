// Stored versions are migrated, not just refused: VMRules stored as v1beta1, a chart release that
// moves storage to v1, then one that drops v1beta1. The guard refuses, and so does the API server
// even with --allow-breaking; migrate-storage rewrites every object in v1 and prunes
// status.storedVersions; crds then applies (with --allow-breaking for the version clients lose);
// no object is lost.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { listObjects, serverSideApply } from '../../tasks/lib/cluster/kube.ts';
import { kubeFor, run } from '../helpers/sandbox.ts';
import { pin, publishVariant, withCrdsHelmfile } from '../helpers/variants.ts';

const CRDS = 'templates/crds.yaml';
/** VMRule served as v1beta1 and v1, stored as v1 (the schema is the same: no conversion needed). */
const twoVersions = (t: string) =>
  t
    .replace('(dict "kind" "VMRule" "plural" "vmrules" "singular" "vmrule" "version" "v1beta1")', '(dict "kind" "VMRule" "plural" "vmrules" "singular" "vmrule" "version" "v1beta1" "next" "v1")')
    .replace('      served: true\n      storage: true\n      schema:\n', '      served: true\n      storage: {{ not $crd.next }}\n      schema: &schema\n')
    .replace('      subresources:\n        status: {}\n{{- end }}', '      subresources:\n        status: {}\n    {{- if $crd.next }}\n    - name: {{ $crd.next }}\n      served: true\n      storage: true\n      schema: *schema\n      subresources:\n        status: {}\n    {{- end }}\n{{- end }}');
const v1Only = (t: string) => t.replace('"kind" "VMRule" "plural" "vmrules" "singular" "vmrule" "version" "v1beta1"', '"kind" "VMRule" "plural" "vmrules" "singular" "vmrule" "version" "v1"');

const rules = Array.from({ length: 12 }, (_, i) => ({
  apiVersion: 'operator.victoriametrics.com/v1beta1',
  kind: 'VMRule',
  metadata: { name: `stored-${i}`, namespace: 'default' },
  spec: { groups: [{ name: `g${i}`, rules: [{ record: `r:${i}`, expr: `sum(up{job="${i}"})` }] }] },
}));
const specs = (objects: KubernetesObject[]) => objects.map((o) => [o.metadata?.name, JSON.stringify((o as { spec?: unknown }).spec)]).sort();

describe('migrate-storage', () => {
  it('moves stored VMRules to v1, prunes storedVersions, and lets the bundle that drops v1beta1 apply, losing nothing', async () => {
    const kube = kubeFor('apps');
    for (const rule of rules) await serverSideApply(kube, rule, { fieldManager: 'e2e' });
    const before = specs(await listObjects(kube, 'operator.victoriametrics.com/v1beta1', 'VMRule', 'default'));
    expect(before).toHaveLength(12);

    await publishVariant({ chart: 'victoria-metrics-operator-crds', from: '0.14.0', to: '0.14.1-e2e', edit: { [CRDS]: twoVersions } });
    await publishVariant({ chart: 'victoria-metrics-operator-crds', from: '0.14.0', to: '0.15.1-e2e', edit: { [CRDS]: v1Only } });
    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.14.1-e2e'), async (copy) => {
      expect((await copy.run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
      const moved = await copy.run`node tasks/crds.ts --cluster apps`;
      expect(moved.exitCode, moved.stderr).toBe(0);
    });
    const crd = await kube.apiextensions.readCustomResourceDefinition({ name: 'vmrules.operator.victoriametrics.com' });
    expect(crd.status?.storedVersions).toEqual(['v1beta1', 'v1']);

    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.15.1-e2e'), async (copy) => {
      expect((await copy.run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
      const refused = await copy.run`node tasks/crds.ts --cluster apps`;
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('stored-version-removed: version v1beta1 is in status.storedVersions but removed (nx run <cluster>:migrate-storage rewrites the objects, then prunes it)');

      // Even when told to apply anyway, the API server refuses a CRD that drops a stored version.
      const forced = await copy.run`node tasks/crds.ts --cluster apps --allow-breaking`;
      expect(forced.exitCode).not.toBe(0);
      expect(forced.stderr).toMatch(/storedVersions/);

      const migrated = await copy.run`node tasks/migrate-storage.ts --cluster apps`;
      expect(migrated.exitCode, migrated.stderr).toBe(0);
      expect(migrated.stderr).toMatch(/vmrules\.operator\.victoriametrics\.com: 12 objects rewritten in v1; status\.storedVersions \[v1beta1, v1\] → \[v1\]/);

      // What remains is the clients' problem, not the stored objects': v1beta1 is no longer served.
      const refusedAgain = await copy.run`node tasks/crds.ts --cluster apps`;
      expect(refusedAgain.exitCode).toBe(1);
      expect(refusedAgain.stderr).toContain('refusing 1 breaking change(s)');
      expect(refusedAgain.stderr).toContain('served-version-removed');
      const applied = await copy.run`node tasks/crds.ts --cluster apps --allow-breaking`;
      expect(applied.exitCode, applied.stderr).toBe(0);
    });
    const after = await kube.apiextensions.readCustomResourceDefinition({ name: 'vmrules.operator.victoriametrics.com' });
    expect(after.spec.versions.map((v) => v.name)).toEqual(['v1']);
    expect(after.status?.storedVersions).toEqual(['v1']);
    // Every object is readable at v1 with the same content: nothing lost.
    const v1 = specs(await listObjects(kube, 'operator.victoriametrics.com/v1', 'VMRule', 'default'));
    expect(v1).toEqual(before);
    for (const rule of rules) await kube.objects.delete({ ...rule, apiVersion: 'operator.victoriametrics.com/v1' });
    // Back to the pinned chart for whatever runs next: 0.14.0 would drop the stored v1, so the
    // (now empty) CRD is deleted and applied again from the bundle.
    await kube.apiextensions.deleteCustomResourceDefinition({ name: 'vmrules.operator.victoriametrics.com' });
    for (let i = 0; i < 100 && (await kube.apiextensions.listCustomResourceDefinition()).items.some((c) => c.metadata?.name === 'vmrules.operator.victoriametrics.com'); i++) await new Promise((r) => setTimeout(r, 200));
    expect((await run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
    expect((await run`node tasks/crds.ts --cluster apps`).exitCode).toBe(0);
  });
});
