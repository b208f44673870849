// The rehearsal (audit) on a generated GitOps tree of several hundred files (bench/generated-tree.ts:
// the example tree plus 64 generated apps shaped like real ones). Cold: the first run on a new
// tree (built with Flux's library) with an empty chart cache; warm: the same tree again (the built
// tree read back by the hash of its inputs, charts and renders read back from the chart cache by
// digest). Side by side: a warm run whose chart cache is empty (every chart pulled and rendered),
// and the same files parsed as a flat folder (what the old audit did, and what cannot tell layers
// apart).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measureTree } from './bench/tree-memory.ts';
import { generateTree } from './bench/generated-tree.ts';
import { findYamlFiles, parseManifests } from '../tasks/lib/runtime/manifests.ts';
import { workspaceRoot } from '../tasks/lib/runtime/workspace.ts';

const NAMESPACES = 8;
const APPS_PER_NAMESPACE = 8;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export async function benchmarkAudit(clusterName: string): Promise<void> {
  const { root, files } = await generateTree(NAMESPACES, APPS_PER_NAMESPACE);
  const caches: string[] = [];
  const helmReleases = (await findYamlFiles([path.join(root, 'kubernetes')])).filter((f) => path.basename(f) === 'helmrelease.yaml').length;
  try {
    let peakMiB = 0;
    const kept = await mkdtemp(path.join(os.tmpdir(), 'bench-chart-cache-'));
    caches.push(kept);
    const audit = async (chartCache = kept) => {
      // The whole process tree's memory: the audit, its flux-build helpers and helm.
      const result = await measureTree('node', ['tasks/audit.ts', '--cluster', clusterName, '--gitops-root', root, '--json'], { cwd: workspaceRoot, env: { ...process.env, BOOTSTRAP_CHART_CACHE: chartCache } });
      peakMiB = Math.max(peakMiB, result.peakMiB);
      if (result.code !== 0) throw new Error(`audit of the generated tree exited ${result.code}: ${result.stderr.split('\n').slice(-3).join(' ')}`);
      return JSON.parse(result.stdout) as { layers: unknown[]; helmReleases?: unknown[] };
    };
    let layers = 0;
    const cold = await timed(async () => (layers = (await audit()).layers.length));
    const warm = [await timed(() => audit()), await timed(() => audit()), await timed(() => audit())].sort((a, b) => a - b)[1]!;
    const empty = await mkdtemp(path.join(os.tmpdir(), 'bench-chart-cache-'));
    caches.push(empty);
    const uncached = await timed(() => audit(empty));
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
        `  warm, chart cache empty            ${uncached.toFixed(1).padStart(9)} ms: the chart cache makes a rerun ${(uncached / warm).toFixed(1)}x faster\n` +
        `  peak memory of the whole process tree ${peakMiB.toFixed(0)} MiB (${helmReleases} HelmReleases)\n` +
        `  flat parse of every file (no build, no layers) ${flat.toFixed(1)} ms: the rehearsal costs ${(warm / flat).toFixed(1)}x a flat reading\n\n`,
    );
  } finally {
    for (const cache of caches) await rm(cache, { recursive: true, force: true });
    if (!process.env['KEEP_BENCH_TREE']) await rm(root, { recursive: true, force: true });
    else process.stdout.write(`tree kept: ${root}\n`);
  }
}
