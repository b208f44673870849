// The API server judges the objects of a CRD upgrade: VictoriaMetrics operator CRDs 0.13.0 made
// VMRule spec.groups[].rules a keyed list (keys record and alert), which rejects a group with two
// alerts of one name (kube-prometheus has them). No rule of ours describes that change.
import { describe, expect, it } from 'vitest';
import { serverSideApply } from '../../tasks/lib/cluster/kube.ts';
import { kubeFor } from '../helpers/sandbox.ts';
import { pin, publishVariant, VMRULES, vmKeyedList, withCrdsHelmfile } from '../helpers/variants.ts';

const liveRule = {
  apiVersion: 'operator.victoriametrics.com/v1beta1',
  kind: 'VMRule',
  metadata: { name: 'e2e-node-alerts', namespace: 'default' },
  spec: {
    groups: [{ name: 'node', rules: [{ alert: 'NodeDown', expr: 'up == 0', for: '5m' }, { alert: 'NodeDown', expr: 'absent(up)', for: '10m' }] }],
  },
};

describe('upgrade-check: kube-apiserver judges the objects of the changed CRDs', () => {
  it('accepts the tree’s and the live VMRules under a CRD change that keeps their shape', async () => {
    const kube = kubeFor('infra');
    await serverSideApply(kube, liveRule, { fieldManager: 'e2e' });
    await publishVariant({ chart: 'victoria-metrics-operator-crds', from: '0.14.0', to: '0.15.5-e2e', edit: { [VMRULES]: (t) => t.replace('Rule describes an alerting or recording rule.', 'Rule describes an alerting or recording rule (e2e).') } });
    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.15.5-e2e'), async (copy) => {
      expect((await copy.run`nx run infra:render-crds --outputStyle=stream`).exitCode).toBe(0);
      const result = await copy.run`node tasks/upgrade-check.ts --cluster infra`;
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^\d+ objects of \d+ changed CRDs judged by kube-apiserver in a throwaway control plane in [\d.]+s: 0 rejected$/m);
    });
  });

  it('rejects them under the keyed-list CRD with the API server’s own message, and crds --check-objects writes nothing', async () => {
    await publishVariant({ chart: 'victoria-metrics-operator-crds', from: '0.14.0', to: '0.16.0-e2e', edit: { [VMRULES]: vmKeyedList } });
    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.16.0-e2e'), async (copy) => {
      expect((await copy.run`nx run infra:render-crds --outputStyle=stream`).exitCode).toBe(0);
      const result = await copy.run`node tasks/upgrade-check.ts --cluster infra`;
      expect(result.exitCode, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(
        /✗ VMRule observability\/kube-apiserver-burnrate \(kubernetes\/apps\/observability\/rules\/app\/kube-apiserver-burnrate-vmrule\.yaml\): rejected by vmrules\.operator\.victoriametrics\.com v1beta1: .*spec\.groups\[0\]\.rules\[1\]: Duplicate value: .*KubeAPIErrorBudgetBurn/,
      );
      expect(result.stdout).toMatch(/✗ VMRule default\/e2e-node-alerts \(live default\/e2e-node-alerts\): rejected by vmrules\.operator\.victoriametrics\.com v1beta1: .*Duplicate value: .*NodeDown/);
      // The recording rule and the other objects pass: only what the new schema refuses is named.
      expect(result.stdout).not.toContain('node-recording');

      const before = await kubeFor('infra').apiextensions.readCustomResourceDefinition({ name: 'vmrules.operator.victoriametrics.com' });
      // The rules see this change now (list-type-tightened); past them, the API server has the last word.
      const guarded = await copy.run`node tasks/crds.ts --cluster infra`;
      expect(guarded.exitCode).toBe(1);
      expect(guarded.stderr).toContain('list-type-tightened: list type atomic → map (keys record, alert): items with the same key are now rejected');
      const crds = await copy.run`node tasks/crds.ts --cluster infra --check-objects --allow-breaking`;
      expect(crds.exitCode).toBe(1);
      expect(crds.stderr).toContain('kube-apiserver would reject 2 existing object(s) under the new CRDs; nothing was applied');
      const after = await kubeFor('infra').apiextensions.readCustomResourceDefinition({ name: 'vmrules.operator.victoriametrics.com' });
      expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    });
    await kubeFor('infra').objects.delete(liveRule);
  });
});
