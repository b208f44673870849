// kube-upgrade-check on copies of the example tree, with the sandbox's registry mirror holding the
// charts (their kubeVersion is read from it): a clean bump passes; a removed built-in API version
// fails naming the file and the version that replaces it; a chart whose kubeVersion refuses the
// new minor fails naming the chart, its pin and Helm's words.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { run } from '../helpers/sandbox.ts';

const copies: string[] = [];
afterAll(async () => {
  for (const dir of copies) await rm(dir, { recursive: true, force: true });
});

async function scratch(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  copies.push(dir);
  return dir;
}

async function copyOfExample(): Promise<string> {
  const root = await scratch('kube-upgrade-');
  await cp(path.join(workspaceRoot, 'kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
  return root;
}

const app = (root: string) => path.join(root, 'kubernetes/apps/kube-system/coredns/app');

/** Adds files to coredns' app and to its kustomization.yaml's resources. */
async function addToApp(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(app(root), name), text);
  const kustomization = path.join(app(root), 'kustomization.yaml');
  const text = await readFile(kustomization, 'utf8');
  await writeFile(kustomization, text.replace('resources:\n', `resources:\n${Object.keys(files).map((f) => `  - ./${f}\n`).join('')}`));
}

const check = (root: string, from: string, to: string) => run`node tasks/kube-upgrade-check.ts --cluster infra --from ${from} --to ${to} --gitops-root ${root}`;

describe('kube-upgrade-check', () => {
  beforeAll(async () => {
    const rendered = await run`nx run infra:render-crds --outputStyle=stream`;
    expect(rendered.exitCode, rendered.stdout + rendered.stderr).toBe(0);
  });

  it('passes the example tree from 1.36 to 1.37: every chart admits it, no API version or CRD feature is lost', async () => {
    const result = await check(await copyOfExample(), '1.36', '1.37');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Kubernetes 1\.36 → 1\.37: \d+ objects, \d+ charts, \d+ CRDs judged, 0 findings$/m);
  });

  it('fails a tree that uses a removed built-in API version, naming the file and the replacement', async () => {
    const root = await copyOfExample();
    await addToApp(root, {
      'flowschema.yaml': 'apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: coredns\nspec:\n  priorityLevelConfiguration:\n    name: workload-high\n',
    });
    const result = await check(root, '1.33', '1.37');
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/✗ api: flowcontrol\.apiserver\.k8s\.io\/v1beta3 FlowSchema \S*coredns is not served by Kubernetes 1\.37 \(nor by 1\.33: Flux fails to apply it already\)\n/);
    expect(result.stdout).toContain('    kubernetes/apps/kube-system/coredns/app/flowschema.yaml (Kustomization kube-system/coredns)\n');
    expect(result.stdout).toContain('    fix: use flowcontrol.apiserver.k8s.io/v1: apiVersion: flowcontrol.apiserver.k8s.io/v1\n');
    expect(result.stdout).toMatch(/, 1 findings$/m);
  });

  it('fails a chart whose kubeVersion refuses the new minor, with its pin and what Helm says', async () => {
    const charts = await scratch('kube-pinned-');
    const chart = path.join(charts, 'e2e-kube-pinned');
    await mkdir(path.join(chart, 'templates'), { recursive: true });
    await writeFile(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: e2e-kube-pinned\nversion: 0.1.0\nkubeVersion: ">=1.25.0-0 <1.37.0-0"\n');
    await writeFile(path.join(chart, 'templates', 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pinned\ndata: {}\n');
    const packaged = await run`helm package ${chart} --destination ${charts}`;
    expect(packaged.exitCode, packaged.stderr).toBe(0);
    const pushed = await run`node scripts/sandbox.ts push ${path.join(charts, 'e2e-kube-pinned-0.1.0.tgz')} --path example.com/charts`;
    expect(pushed.exitCode, pushed.stderr).toBe(0);

    const root = await copyOfExample();
    await addToApp(root, {
      'pinned-ocirepository.yaml': 'apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: e2e-kube-pinned\nspec:\n  interval: 1h\n  ref:\n    tag: 0.1.0\n  url: oci://example.com/charts/e2e-kube-pinned\n',
      'pinned-helmrelease.yaml': 'apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: e2e-kube-pinned\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: e2e-kube-pinned\n',
    });
    expect((await check(root, '1.35', '1.36')).exitCode).toBe(0);
    const result = await check(root, '1.36', '1.37');
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain(
      '✗ chart: oci://example.com/charts/e2e-kube-pinned:0.1.0 refuses Kubernetes 1.37: chart requires kubeVersion: >=1.25.0-0 <1.37.0-0 which is incompatible with Kubernetes v1.37.0\n' +
        '    HelmRelease kube-system/e2e-kube-pinned (kubernetes/apps/kube-system/coredns/app/pinned-ocirepository.yaml)\n' +
        '    fix: move to a chart version whose kubeVersion admits 1.37 before upgrading, or stay on 1.36\n',
    );
  });
});
