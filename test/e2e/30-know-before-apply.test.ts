// Know before you apply: the plan, the breaking-change guard and drift (the audit: 40-rehearsal),
// against the sandbox clusters.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { readObject } from '../../tasks/lib/cluster/kube.ts';
import { bundleDir, relative } from '../../tasks/lib/runtime/workspace.ts';
import { kubeFor, run, runWith } from '../helpers/sandbox.ts';
import { pin, publishVariant, withCrdsHelmfile } from '../helpers/variants.ts';

const crdHeader = (name: string): KubernetesObject => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } });

describe('know before you apply', () => {
  it('starts from both clusters with their CRDs applied and no drift', async () => {
    const result = await run`nx run-many -t crds -p infra,apps --outputStyle=stream`;
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const plan = await run`nx run infra:plan --outputStyle=stream`;
    expect(plan.exitCode, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/0 to create, 0 to update, \d+ unchanged, 0 breaking, 0 orphaned/);
  });

  it('a chart version that drops a served version is shown by plan and refused by crds', async () => {
    // VMRule moves from v1beta1 to v1 only: v1beta1 stops being served and stored objects break.
    await publishVariant({
      chart: 'victoria-metrics-operator-crds',
      from: '0.14.0',
      to: '0.15.0-e2e',
      edit: { 'templates/crds.yaml': (t) => t.replace('"kind" "VMRule" "plural" "vmrules" "singular" "vmrule" "version" "v1beta1"', '"kind" "VMRule" "plural" "vmrules" "singular" "vmrule" "version" "v1"') },
    });
    const before = await readObject(kubeFor('infra'), crdHeader('vmrules.operator.victoriametrics.com'));
    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.15.0-e2e'), async (copy) => {
      const rendered = await copy.run`nx run infra:render-crds --outputStyle=stream`;
      expect(rendered.exitCode, rendered.stderr).toBe(0);

      const breakingPlan = await copy.run`node tasks/plan.ts --cluster infra`;
      expect(breakingPlan.exitCode).toBe(1);
      expect(breakingPlan.stdout).toMatch(/^breaking\s+vmrules\.operator\.victoriametrics\.com\s+\d+ KiB\s+victoria-metrics-operator-crds$/m);
      expect(breakingPlan.stdout).toContain('    ✗ version v1beta1: served-version-removed: version v1beta1 is no longer served');
      expect(breakingPlan.stdout).toContain('    ✗ version v1beta1: stored-version-removed: version v1beta1 is in status.storedVersions but removed');

      const json = await copy.run`node tasks/plan.ts --cluster infra --json`;
      const parsed = JSON.parse(json.stdout) as { entries: Array<{ name: string; action: string }> };
      expect(parsed.entries.find((e) => e.name === 'vmrules.operator.victoriametrics.com')?.action).toBe('breaking');

      const refused = await copy.run`node tasks/crds.ts --cluster infra`;
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('✗ crds failed: CRD phase of infra: refusing 3 breaking change(s); nothing was applied:');
      expect(refused.stderr).toContain('vmrules.operator.victoriametrics.com (version v1beta1): served-version-removed');
      expect(refused.stderr).toContain('fix: read the chart’s upgrade notes and migrate stored objects first (nx run <cluster>:upgrade-check shows which objects the API server would reject); to apply anyway, rerun with --allow-breaking');

      const dryRun = await copy.run`node tasks/crds.ts --cluster infra --dry-run`;
      expect(dryRun.exitCode).toBe(0);
      expect(dryRun.stdout).toContain('1 breaking');
    });
    const after = await readObject(kubeFor('infra'), crdHeader('vmrules.operator.victoriametrics.com'));
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
  });

  it('compares two bundles without a cluster', async () => {
    const head = path.join(await mkdtemp(path.join(os.tmpdir(), 'bundle-head-')), 'apps');
    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.15.0-e2e'), async (copy) => {
      expect((await copy.run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
      await cp(copy.file(relative(bundleDir('apps'))), head, { recursive: true });
    });
    expect((await run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
    const compared = await run`node tasks/compare-bundles.ts dist/crds/apps ${head}`;
    await rm(path.dirname(head), { recursive: true, force: true });
    expect(compared.exitCode).toBe(1);
    expect(compared.stdout).toContain('✗ vmrules.operator.victoriametrics.com (version v1beta1): served-version-removed: version v1beta1 is no longer served');
    // Bundles carry no status.storedVersions: a removed version may still hold stored objects.
    expect(compared.stdout).toContain('✗ vmrules.operator.victoriametrics.com (version v1beta1): version-removed: version v1beta1 is removed: it may still be in status.storedVersions');
    expect(compared.stdout).toContain('✗ vmrules.operator.victoriametrics.com (version v1): storage-version-changed: storage version v1beta1 → v1');
    expect(compared.stdout.trim().split('\n').at(-1)).toBe('3 breaking, 0 dropped, 0 added');
  });

  it('checks a chart bump against the git base without a cluster (the pull-request check)', async () => {
    await withCrdsHelmfile(pin('victoria-metrics-operator-crds', '0.14.0', '0.15.0-e2e'), async (copy) => {
      expect((await copy.run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
      // HEAD of the copy's repository is the workspace before the pin was edited.
      const checked = await copy.run`node tasks/compare-bundles.ts --cluster apps --base HEAD --json`;
      expect(checked.exitCode, checked.stderr).toBe(1);
      const result = JSON.parse(checked.stdout) as { breaking: Array<{ crd: string; rule: string }>; dropped: string[]; added: string[] };
      expect(result.breaking.map((b) => `${b.crd} ${b.rule}`)).toEqual([
        'vmrules.operator.victoriametrics.com served-version-removed',
        // Between bundles there is no status: the removed version may still hold stored objects.
        'vmrules.operator.victoriametrics.com version-removed',
        'vmrules.operator.victoriametrics.com storage-version-changed',
      ]);
      expect((await copy.run`git worktree list`).stdout.trim().split('\n')).toHaveLength(1);
    });
    expect((await run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
    const unchanged = await run`node tasks/compare-bundles.ts --cluster apps --base HEAD`;
    expect(unchanged.exitCode).toBe(0);
    expect(unchanged.stdout).toBe('0 breaking, 0 dropped, 0 added\n');
    expect((await run`git worktree list`).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('render fails naming cert-manager when its CRD switch is off (E3)', async () => {
    await withCrdsHelmfile(
      (text) => text.replace('    values:\n      - crds:\n          enabled: true\n', ''),
      async (copy) => {
        const result = await copy.run`node tasks/render-crds.ts --cluster apps`;
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          '✗ render-crds failed: release "cert-manager" in helmfile.d/00-crds.yaml.gotmpl: renders no CustomResourceDefinition',
        );
      },
    );
  });

  it('drift finds a CRD whose spec was edited by hand and a version skew between the clusters', async () => {
    const kube = kubeFor('apps');
    const name = 'prometheusrules.monitoring.coreos.com';
    // A spec edit: another manager with the same content is shared ownership, not drift (#24).
    await kube.objects.patch(
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name }, spec: { names: { shortNames: ['edited-by-hand'] } } } as KubernetesObject,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch,
    );
    await publishVariant({ chart: 'prometheus-operator-crds', from: '31.0.1', to: '31.0.2-e2e' });
    try {
      await withCrdsHelmfile(pin('prometheus-operator-crds', '31.0.1', '31.0.2-e2e'), async (copy) => {
        const applied = await copy.run`nx run infra:crds --outputStyle=stream`;
        expect(applied.exitCode, applied.stdout + applied.stderr).toBe(0);
      });
      const result = await run`node tasks/drift.ts --cluster apps`;
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toMatch(/^differs\s+prometheusrules\.monitoring\.coreos\.com\s+live spec differs from the bundle/m);
      expect(result.stdout).toMatch(/^version-skew\s+servicemonitors\.monitoring\.coreos\.com\s+apps has prometheus-operator-crds@31\.0\.1; infra has prometheus-operator-crds@31\.0\.2-e2e$/m);
      const json = JSON.parse((await run`node tasks/drift.ts --cluster apps --json`).stdout) as { findings: Array<{ kind: string }> };
      expect(json.findings.filter((f) => f.kind === 'version-skew')).toHaveLength(10);
    } finally {
      // Back to the pinned bundle in both clusters; the hand edit is taken back by the crds phase.
      const restored = await run`nx run-many -t crds -p infra,apps --outputStyle=stream`;
      expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);
    }
    const clean = await runWith({})`node tasks/drift.ts --cluster apps`;
    expect(clean.stdout.trim()).toBe('apps: no drift');
    expect(clean.exitCode).toBe(0);
  });
});
