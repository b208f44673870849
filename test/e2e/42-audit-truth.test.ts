// The audit tells the truth on real-shaped trees (test/fixtures/gitops-real-shapes over a copy of
// the example tree): no stale verdict from Nx's cache for a tree outside the workspace, no abort
// on a chart it cannot pull, no false finding for a variable a dependency creates, a chart pinned
// by semver resolved against the mirror, and a Kustomization from another source named, not
// built from the wrong root. Each case failed before (see the closing note of the change).
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { run, runWith } from '../helpers/sandbox.ts';
import { publishVariant } from '../helpers/variants.ts';
import { withWorkspaceCopy } from '../helpers/workspace-copy.ts';

const copies: string[] = [];
afterAll(async () => {
  for (const root of copies) await rm(root, { recursive: true, force: true });
});

async function copyOfExample(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gitops-truth-'));
  copies.push(root);
  await cp(path.join(workspaceRoot, 'kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
  return root;
}

async function edit(root: string, file: string, change: (text: string) => string): Promise<void> {
  const target = path.join(root, 'kubernetes', file);
  const before = await readFile(target, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`edit of ${file} changed nothing`);
  await writeFile(target, after);
}

/** The example tree with every real-world shape of the fixture laid over it. */
async function realShapedTree(): Promise<string> {
  const root = await copyOfExample();
  await cp(path.join(workspaceRoot, 'test/fixtures/gitops-real-shapes/kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
  await edit(root, 'apps/observability/silence-operator/app/ocirepository.yaml', (t) => t.replace('tag: 0.20.0', 'semver: ">=0.20.0 <0.21.0"'));
  await edit(root, 'apps/observability/silence-operator/ks.yaml', (t) =>
    t.replace(/  wait: true\n/, '  wait: false\n  healthChecks:\n    - apiVersion: helm.toolkit.fluxcd.io/v2\n      kind: HelmRelease\n      name: silence-operator\n      namespace: observability\n'),
  );
  return root;
}

// The audit's scratch folders: the CRD render's, the hand-off's renders' and the capability renders'.
const scratchFolders = async () => (await readdir(os.tmpdir())).filter((f) => ['helmrelease-crds-', 'handover-', 'capabilities-'].some((p) => f.startsWith(p))).sort();

describe('the audit on real-shaped trees', () => {
  it('reports every case as a finding, never aborts, and leaves no scratch folder', async () => {
    const root = await realShapedTree();
    const before = await scratchFolders();
    const result = await run`node tasks/audit.ts --cluster infra --gitops-root ${root}`;
    const out = result.stdout;
    expect(result.stderr).not.toContain('failed unexpectedly');
    expect(result.stderr).not.toContain('is not installed or not on PATH');
    expect(result.exitCode, `${out}\n${result.stderr}`).toBe(1);

    // An unpullable chart is a finding for its HelmRelease, with the command that fixes it.
    expect(out).toMatch(
      /  ✗ not-rehearsed: HelmRelease default\/home-app: not rehearsed: chart unreachable: .+; the CRDs its chart installs are unknown\n {6}Kustomization flux-system\/home-app, kubernetes\/home\/app\/resources\/helmrelease\.yaml\n {6}fix: copy app-template 4\.4\.0 into the registry mirror 127\.0\.0\.1:15000 at ghcr\.io\/bjw-s-labs\/helm \(the sandbox: helm pull it where it is reachable, then npm run sandbox -- push app-template-4\.4\.0\.tgz --path ghcr\.io\/bjw-s-labs\/helm\)/,
    );
    // Another source is named, not built from this repository's root.
    expect(out).toContain(
      '  ✗ not-rehearsed: built from another source (GitRepository flux-system/home-ops-private), not rehearsed: its objects are unknown here\n' +
        '      Kustomization flux-system/cluster-private-apps, kubernetes/flux/cluster/private.yaml\n' +
        '      fix: map GitRepository flux-system/home-ops-private to a local checkout in cluster.yaml gitops.sources (e.g. "GitRepository/flux-system/home-ops-private": ../other-repo)',
    );
    expect(out).not.toMatch(/build: kustomize build of \.\/apps failed/);
    // The variable home-settings creates is there when Flux builds home-app, which depends on it.
    expect(out).not.toContain('✗ substitution');
    // The semver pin is resolved against the mirror's tags: the Silence CRD is known.
    expect(out).toContain('    ✔ observability.giantswarm.io/v1alpha2 Silence: HelmRelease observability/silence-operator in observability/silence-operator');
    expect(out).not.toContain('✗ missing');
    // The real race: a shared Component's kind, without a dependsOn on its operator; the fix names the healthCheck.
    expect(out).toContain(
      '  ✗ race: flux-system/home-app applies observability.giantswarm.io/v1alpha2 Silence, whose CRD HelmRelease observability/silence-operator installs in observability/silence-operator, which flux-system/home-app does not depend on\n' +
        '      Kustomization flux-system/home-app, kubernetes/components/maintenance-silence/silence.yaml\n' +
        '      fix: add dependsOn observability/silence-operator to flux-system/home-app (observability/silence-operator has a healthCheck on HelmRelease observability/silence-operator), or move the chart to helmfile.d/00-crds',
    );
    expect(out).toMatch(/\d+ Kustomizations in \d+ layers, \d+ kinds, 3 findings/);
    expect(await scratchFolders()).toEqual(before);
  });

  it('a chart pinned by digest is not rendered, and says so', async () => {
    const root = await copyOfExample();
    await edit(root, 'apps/observability/silence-operator/app/ocirepository.yaml', (t) => t.replace('tag: 0.20.0', `digest: sha256:${'0'.repeat(64)}`));
    const result = await run`node tasks/audit.ts --cluster infra --gitops-root ${root}`;
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain('  ✗ not-rehearsed: HelmRelease observability/silence-operator: not rendered: OCIRepository observability/silence-operator pins only a digest (ref.digest), which only Flux resolves; the CRDs its chart installs are unknown');
    // Its kind is unknown, not "missing" with the advice to add a chart to 00-crds.
    expect(result.stdout).toContain('  ✗ not-rehearsed: nothing rendered provides observability.giantswarm.io/v1alpha2 Silence; HelmRelease observability/silence-operator was not rendered and may');
    expect(result.stdout).not.toContain('✗ missing');
  });

  it('CEL Flux refuses: a health check that does not parse and a readyExpr that is not a bool, each named with Flux\'s own message; the example\'s own checks pass', async () => {
    const example = await run`node tasks/audit.ts --cluster infra --gitops-root ${await copyOfExample()}`;
    expect(example.stdout).not.toContain('✗ cel');
    const root = await copyOfExample();
    await edit(root, 'apps/cert-manager/cert-manager/ks.yaml', (t) =>
      t
        .replace("current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')", "current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == )")
        .replace('  dependsOn:\n    - name: cert-manager\n      namespace: cert-manager\n', '  dependsOn:\n    - name: cert-manager\n      namespace: cert-manager\n      readyExpr: size(dep.status.conditions)\n'),
    );
    const result = await run`node tasks/audit.ts --cluster infra --gitops-root ${root}`;
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      "  ✗ cel: Kustomization cert-manager/cert-manager-issuers spec.healthCheckExprs: Flux refuses the expression (failed to create custom status evaluator for healthchecks[0]: failed to parse the expression Current: failed to parse the CEL expression 'status.conditions.filter(e, e.type == 'Ready').all(e, e.status == )': ERROR: <input>:1:",
    );
    expect(result.stdout).toContain(
      '  ✗ cel: Kustomization cert-manager/cert-manager-issuers spec.dependsOn[0].readyExpr: Flux refuses the expression (readyExpr: CEL expression output type mismatch: expected bool, got int); the dependency check fails for good, so kustomize-controller stalls it (InvalidCELExpression) and never applies it\n' +
        '      Kustomization cert-manager/cert-manager-issuers, kubernetes/apps/cert-manager/cert-manager/ks.yaml',
    );
  });

  it('a health check only a controller installed behind it can pass: it waits forever, and the controller\'s Kustomization is blocked', async () => {
    const root = await copyOfExample();
    // The silences bring the Silence CRD themselves (applied first) and check each Silence's Ready by CEL;
    // silence-operator, which runs the controller, now waits for them.
    await cp(path.join(workspaceRoot, 'test/fixtures/charts/silence-operator/crds/observability.giantswarm.io_silences.yaml'), path.join(root, 'kubernetes/apps/observability/silence-operator/silences/crd.yaml'));
    await edit(root, 'apps/observability/silence-operator/silences/kustomization.yaml', (t) => t.replace('  - ./node-maintenance.yaml\n', '  - ./crd.yaml\n  - ./node-maintenance.yaml\n'));
    await edit(root, 'apps/observability/silence-operator/ks.yaml', (t) =>
      t
        .replace('  name: &app silence-operator\nspec:\n', '  name: &app silence-operator\nspec:\n  dependsOn:\n    - name: silence-operator-silences\n')
        .replace('  dependsOn:\n    - name: silence-operator\n      namespace: observability\n', "  healthCheckExprs:\n    - apiVersion: observability.giantswarm.io/v1alpha2\n      kind: Silence\n      current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')\n")
        .replace(/  timeout: 5m\n  wait: false\n$/, '  timeout: 5m\n  wait: true\n'),
    );
    const result = await run`node tasks/audit.ts --cluster infra --gitops-root ${root}`;
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      '  ✗ health-check: observability/silence-operator-silences checks the health of Silence (node-maintenance) by healthCheckExprs, which only their controller can pass, and its controller (HelmRelease observability/silence-operator in observability/silence-operator) is installed only after observability/silence-operator-silences is Ready: it waits forever',
    );
    expect(result.stdout).toContain("  ✗ blocked: dependency 'observability/silence-operator-silences' is not ready: observability/silence-operator-silences is predicted to fail (health-check observability.giantswarm.io/v1alpha2 Silence), so Flux never applies observability/silence-operator");
  });

  it('a readyExpr that holds before its dependency is Ready: a race where it replaces Flux\'s Ready check (the default), nothing where core\'s FluxInstance turns on AdditiveCELDependencyCheck (the example)', async () => {
    const readyExpr = (t: string) =>
      t.replace('    - name: silence-operator\n      namespace: observability\n', '    - name: silence-operator\n      namespace: observability\n      readyExpr: dep.metadata.generation == dep.metadata.generation\n');
    const root = await copyOfExample();
    await edit(root, 'apps/observability/silence-operator/ks.yaml', readyExpr);
    const additive = await run`node tasks/audit.ts --cluster infra --gitops-root ${root}`;
    expect(additive.exitCode, additive.stdout + additive.stderr).toBe(0);
    // Without the FluxInstance's kustomize.patches (01-core reads them from the tree's values.yaml).
    await withWorkspaceCopy(async (copy) => {
      await copy.edit('kubernetes/apps/flux-system/flux-instance/app/resources/values.yaml', (t) => t.replace(/  kustomize:\n    patches:\n[\s\S]*$/, ''));
      await copy.edit('kubernetes/apps/observability/silence-operator/ks.yaml', readyExpr);
      await cp(path.join(workspaceRoot, 'dist/crds/infra'), copy.file('dist/crds/infra'), { recursive: true });
      const replacing = await copy.run`node tasks/audit.ts --cluster infra`;
      expect(replacing.exitCode, replacing.stderr).toBe(1);
      expect(replacing.stdout).toContain(
        "  ✗ race: observability/silence-operator-silences depends on observability/silence-operator, whose HelmRelease observability/silence-operator installs the Silence CRD, but observability/silence-operator-silences's readyExpr for it (dep.metadata.generation == dep.metadata.generation) already holds before observability/silence-operator is Ready, and Flux checks it instead of Ready (kustomize-controller's AdditiveCELDependencyCheck is off)\n" +
          '      Kustomization observability/silence-operator-silences, kubernetes/apps/observability/silence-operator/silences/',
      );
    });
  });

  it('through Nx, a tree outside the workspace is in the cache key: a changed file is a miss, never a replayed verdict', async () => {
    const root = await copyOfExample();
    const nx = runWith({ BOOTSTRAP_GITOPS_ROOT: root });
    const first = await nx`nx run infra:audit --outputStyle=stream`;
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const hit = await nx`nx run infra:audit --outputStyle=stream`;
    expect(hit.stdout + hit.stderr).toMatch(/infra:audit.*(local cache|existing outputs match the cache)/);
    // The case: a dependsOn that makes a cycle, in the external tree only.
    await edit(root, 'apps/cert-manager/cert-manager/ks.yaml', (t) => t.replace('  name: &app cert-manager\nspec:\n', '  name: &app cert-manager\nspec:\n  dependsOn:\n    - name: cert-manager-issuers\n'));
    const changed = await nx`nx run infra:audit --outputStyle=stream`;
    const output = changed.stdout + changed.stderr;
    expect(output).not.toMatch(/infra:audit.*(local cache|existing outputs match the cache)/);
    expect(output).toContain('✗ cycle: dependsOn cycle: cert-manager/cert-manager → cert-manager/cert-manager-issuers → cert-manager/cert-manager');
    // A report with findings ends 0 under Nx, so that it is cached; the gate reads its verdict and fails.
    expect(changed.exitCode, output).toBe(0);
    const again = await nx`nx run infra:audit --outputStyle=stream`;
    expect(again.stdout + again.stderr).toMatch(/infra:audit.*(local cache|existing outputs match the cache)/);
    expect(again.stdout + again.stderr).toContain('✗ cycle: dependsOn cycle: cert-manager/cert-manager → cert-manager/cert-manager-issuers → cert-manager/cert-manager');
    const gate = await run`node scripts/gate.ts audit --cluster infra`;
    expect(gate.exitCode, gate.stderr).toBe(1);
    expect(gate.stderr).toMatch(/\[gate\] ✗ audit infra: \d+ Kustomizations, \d+ findings/);
    // Asked to fail on findings, the run fails (and Nx caches nothing of it).
    const failing = await nx`nx run infra:audit --fail-on findings --outputStyle=stream`;
    expect(failing.exitCode).toBe(1);
    // A flag's folder cannot be hashed by Nx: refused with the way that is.
    const flag = await run`nx run infra:audit --gitops-root ${root} --outputStyle=stream`;
    expect(flag.exitCode).not.toBe(0);
    expect(flag.stdout + flag.stderr).toContain(`✗ audit failed: option --gitops-root: through Nx, the tree at ${root} would not be part of the cache key: a changed tree could replay an old verdict`);
    expect(flag.stdout + flag.stderr).toContain(`fix: run BOOTSTRAP_GITOPS_ROOT=${root} nx run infra:audit (its content is hashed)`);
  });

  it('charts and renders are kept on disk by the registry\'s digest: a second audit pulls and renders nothing and says the same; a chart pushed again under its tag with other content is pulled and rendered again', async () => {
    const cacheRoot = await mkdtemp(path.join(os.tmpdir(), 'chart-cache-e2e-'));
    copies.push(cacheRoot);
    const tag = '0.7.6-cache-e2e';
    await publishVariant({ chart: 'spegel', from: '0.7.4', to: tag });
    const root = await copyOfExample();
    await edit(root, 'apps/kube-system/spegel/app/ocirepository.yaml', (t) => t.replace('tag: 0.7.4', `tag: ${tag}`));
    const audit = () => runWith({ BOOTSTRAP_CHART_CACHE: cacheRoot })`node tasks/audit.ts --cluster infra --gitops-root ${root}`;
    const counts = (stderr: string) => {
      const m = /charts: (\d+) pulled, (\d+) from the chart cache; (\d+) rendered, (\d+) read back from it/.exec(stderr);
      expect(m, stderr).not.toBeNull();
      return { pulled: Number(m![1]), chartsKept: Number(m![2]), rendered: Number(m![3]), rendersKept: Number(m![4]) };
    };
    const cold = await audit();
    const first = counts(cold.stderr);
    expect(first).toMatchObject({ chartsKept: 0, rendersKept: 0 });
    expect(first.pulled).toBeGreaterThan(5);
    expect(first.rendered).toBeGreaterThan(5);

    const warm = await audit();
    expect(counts(warm.stderr)).toEqual({ pulled: 0, chartsKept: first.pulled, rendered: 0, rendersKept: first.rendered });
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.exitCode).toBe(cold.exitCode);

    // The same tag, other content: a new digest, so spegel is pulled and rendered again, the rest read back.
    await publishVariant({ chart: 'spegel', from: '0.7.4', to: tag, edit: { 'values.yaml': (t) => `${t}\n# pushed again under the same tag\n` } });
    const again = counts((await audit()).stderr);
    expect(again).toMatchObject({ pulled: 1, chartsKept: first.pulled - 1 });
    expect(again.rendered).toBeGreaterThan(0);
    expect(again.rendersKept).toBe(first.rendered - again.rendered);
  });
});
