// The rehearsal (audit) on a generated GitOps tree of several hundred files: the example tree
// plus generated namespaces of apps shaped like it (ks.yaml with dependsOn, app/ with
// kustomization.yaml, helmrelease.yaml, ocirepository.yaml, a PrometheusRule, a config file read
// by a configMapGenerator). Cold: the first run on a new tree; warm: the same tree again (helm's
// OCI cache and the page cache warm). Side by side: the same files parsed as a flat folder (what
// the old audit did, and what cannot tell layers apart).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measureTree } from './bench/tree-memory.ts';
import { findYamlFiles, parseManifests } from '../tasks/lib/runtime/manifests.ts';
import { workspaceRoot } from '../tasks/lib/runtime/workspace.ts';

const NAMESPACES = 8;
const APPS_PER_NAMESPACE = 8;

function appFiles(ns: string, app: string, previous: string | undefined): Record<string, string> {
  const depends = previous ? `  dependsOn:\n    - name: ${previous}\n` : '';
  return {
    'ks.yaml': `---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: &app ${app}\nspec:\n  targetNamespace: ${ns}\n${depends}  interval: 1h\n  path: ./kubernetes/apps/${ns}/${app}/app\n  postBuild:\n    substitute:\n      APP: *app\n  prune: true\n  sourceRef:\n    kind: OCIRepository\n    name: flux-system\n    namespace: flux-system\n  wait: true\n`,
    'app/kustomization.yaml': `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\n  - ./ocirepository.yaml\n  - ./prometheusrule.yaml\nconfigMapGenerator:\n  - name: ${app}-config\n    files:\n      - config.yaml=./resources/config.yaml\n`,
    'app/helmrelease.yaml': `---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${app}\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: ${app}\n`,
    'app/ocirepository.yaml': `---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: ${app}\nspec:\n  interval: 5m\n  ref:\n    tag: 0.7.4\n  url: oci://ghcr.io/spegel-org/helm-charts/spegel\n`,
    'app/prometheusrule.yaml': `---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: \${APP}\nspec:\n  groups:\n    - name: \${APP}\n      rules:\n        - alert: \${APP}Down\n          expr: absent(up{job="\${APP}"} == 1)\n          for: 5m\n`,
    'app/resources/config.yaml': `---\nendpoints:\n  - name: ${app}\n    url: https://${app}.example.com\n`,
  };
}

async function generateTree(): Promise<{ root: string; files: number }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-gitops-'));
  await cp(path.join(workspaceRoot, 'kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `bench-${n}`;
    const apps = Array.from({ length: APPS_PER_NAMESPACE }, (_, a) => `${ns}-app-${a}`);
    for (const [a, app] of apps.entries()) {
      for (const [file, text] of Object.entries(appFiles(ns, app, a > 0 ? apps[a - 1] : undefined))) {
        const target = path.join(root, 'kubernetes/apps', ns, app, file);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
      }
    }
    const resources = apps.map((app) => `  - ./${app}/ks.yaml\n`).join('');
    await writeFile(path.join(root, 'kubernetes/apps', ns, 'kustomization.yaml'), `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\ncomponents:\n  - ../../components/common\nresources:\n${resources}`);
  }
  return { root, files: (await findYamlFiles([path.join(root, 'kubernetes')])).length };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export async function benchmarkAudit(clusterName: string): Promise<void> {
  const { root, files } = await generateTree();
  const helmReleases = (await findYamlFiles([path.join(root, 'kubernetes')])).filter((f) => path.basename(f) === 'helmrelease.yaml').length;
  try {
    let peakMiB = 0;
    const audit = async () => {
      // The whole process tree's memory: the audit, its flux-build helpers and helm.
      const result = await measureTree('node', ['tasks/audit.ts', '--cluster', clusterName, '--gitops-root', root, '--json'], { cwd: workspaceRoot, env: process.env });
      peakMiB = Math.max(peakMiB, result.peakMiB);
      if (result.code !== 0) throw new Error(`audit of the generated tree exited ${result.code}: ${result.stderr.split('\n').slice(-3).join(' ')}`);
      return JSON.parse(result.stdout) as { layers: unknown[]; helmReleases?: unknown[] };
    };
    let layers = 0;
    const cold = await timed(async () => (layers = (await audit()).layers.length));
    const warm = [await timed(audit), await timed(audit), await timed(audit)].sort((a, b) => a - b)[1]!;
    const flat = await timed(async () => {
      for (const file of await findYamlFiles([path.join(root, 'kubernetes')])) {
        try {
          parseManifests(await readFile(file, 'utf8'), file);
        } catch {
          // config files are not Kubernetes objects: the flat reading stumbles on them
        }
      }
    });
    process.stdout.write(
      `4. audit (Flux rehearsal) of a generated tree: ${files} YAML files, ${layers} Kustomizations\n` +
        `  cold (first run)                   ${cold.toFixed(1).padStart(9)} ms\n` +
        `  warm (median of 3 reruns)          ${warm.toFixed(1).padStart(9)} ms\n` +
        `  peak memory of the whole process tree ${peakMiB.toFixed(0)} MiB (${helmReleases} HelmReleases)\n` +
        `  flat parse of every file (no build, no layers) ${flat.toFixed(1)} ms: the rehearsal costs ${(warm / flat).toFixed(1)}x a flat reading\n\n`,
    );
  } finally {
    if (!process.env['KEEP_BENCH_TREE']) await rm(root, { recursive: true, force: true });
    else process.stdout.write(`tree kept: ${root}\n`);
  }
}
