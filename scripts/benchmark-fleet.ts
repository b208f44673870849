// 7. Fleet benchmarks.
// a. A no-op `nx run-many -t bootstrap` on the sandbox clusters against the first run on the same
//    clusters (recreated empty, the local Nx cache emptied): DESTRUCTIVE, it recreates the sandbox
//    clusters and clears .nx/cache.
// b. 1, 2 and 4 clusters at once, cold, each a throwaway control plane (the sandbox's binaries):
//    the crds engine (scripts/bench/apply-crds.ts, the render an Nx cache hit) against the shell
//    pipeline (helmfile template | yq | kubectl apply --server-side && kubectl wait), one per
//    cluster, all started together.
// c. 1, 2, 4 and 8 clusters through Nx itself, at --parallel 1, 2 and 4 (scripts/bench/nx-fleet.ts):
//    each cluster a throwaway control plane, nx run-many -t crds cold and then again (no-op).
//   npm run benchmark   (section 7; BENCHMARK_FLEET=2,4 and BENCHMARK_FLEET_NX=1,2,4,8,
//                        BENCHMARK_FLEET_PARALLEL=1,2,4 to choose the sizes)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { loadBundle } from '../tasks/lib/bundle/bundle-files.ts';
import { loadCluster, type ClusterConfig } from '../tasks/lib/model/config.ts';
import { PHASE_ENV, PHASE_NODE_FLAGS } from '../tasks/lib/runtime/phase-process.ts';
import { startThrowawayApiserver, type ThrowawayApiserver } from '../tasks/lib/cluster/throwaway-apiserver.ts';
import { bundleDir, workspaceRoot } from '../tasks/lib/runtime/workspace.ts';
import { measure, type Measure } from './bench/gnu-time.ts';
import { nxFleet } from './bench/nx-fleet.ts';
import { withThrowawaySecrets } from './sandbox/throwaway-secrets.ts';
import { median, ratio, shellPipeline } from './bench/shell-pipeline.ts';

async function noopAgainstFirstRun(names: string[]): Promise<string> {
  const clusters = await Promise.all(names.map((n) => loadCluster(n)));
  if (clusters.some((c) => !c.sandbox)) throw new Error('the no-op line recreates the clusters: sandbox clusters only');
  const { env } = withThrowawaySecrets(clusters, { ...process.env, NX_DAEMON: 'false' });
  const bootstrap = (flags: string) => `nx run-many -t bootstrap -p ${names.join(',')} --outputStyle=stream ${flags} >/dev/null 2>&1`;
  await $({ quiet: true, cwd: workspaceRoot })`node scripts/sandbox.ts up --recreate`;
  // An empty local cache rather than --skip-nx-cache, which runs every task but stores none: the
  // first run must leave what a first run leaves, or the "no-op" after it runs everything again.
  await $({ quiet: true, cwd: workspaceRoot, env })`nx reset --onlyCache`;
  const first = await measure(bootstrap(''), env);
  // Side by side, alternating: a process per phase (the default) and Nx's batch mode (one process).
  const noop: Measure[] = [];
  const batched: Measure[] = [];
  for (let i = 0; i < 3; i++) {
    noop.push(await measure(bootstrap(''), env));
    batched.push(await measure(bootstrap('--batch'), env));
  }
  const line = (what: string, runs: Measure[]) => {
    const seconds = median(runs.map((m) => m.seconds));
    const each = runs.map((m) => m.seconds.toFixed(1)).join(', ');
    return `  a no-op nx run-many -t bootstrap -p ${names.join(',')}${what}: ${seconds.toFixed(1)} s (median of ${each}; peak ${median(runs.map((m) => m.peakMiB)).toFixed(0)} MiB) against ${first.seconds.toFixed(1)} s for the first run on recreated clusters: ${((100 * seconds) / first.seconds).toFixed(0)}%`;
  };
  return `${line(', a process per phase', noop)}\n${line(' --batch, one process', batched)}`;
}

async function parallelClusters(cluster: ClusterConfig, sizes: number[]): Promise<string[]> {
  const bundle = await loadBundle(cluster.name);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-fleet-'));
  const json = path.join(scratch, 'bundle.json');
  await writeFile(json, JSON.stringify(bundle));
  const lines: string[] = [];
  try {
    for (const size of sizes) {
      const measured: Partial<Record<'product' | 'pipeline', Measure>> = {};
      for (const side of ['product', 'pipeline'] as const) {
        const planes: ThrowawayApiserver[] = [];
        try {
          for (let i = 0; i < size; i++) planes.push(await startThrowawayApiserver());
          const one = (kubeconfig: string) =>
            side === 'product'
              ? `node ${PHASE_NODE_FLAGS} scripts/bench/apply-crds.ts ${kubeconfig} throwaway ${json} >/dev/null`
              : shellPipeline(cluster, `kubectl --kubeconfig ${kubeconfig}`);
          // All started together; `wait` fails the measurement if any of them failed.
          const command = `${planes.map((p, i) => `${one(p.kubeconfig)} & p${i}=$!`).join('; ')}; ${planes.map((_, i) => `wait $p${i}`).join(' && ')}`;
          measured[side] = await measure(command, { ...process.env, ...PHASE_ENV });
        } finally {
          await Promise.all(planes.map((p) => p.stop()));
        }
      }
      const { product, pipeline } = measured as Record<'product' | 'pipeline', Measure>;
      lines.push(
        `  ${size} cluster(s) at once, ${bundle.crds.length} CRDs each: product ${product.seconds.toFixed(1)} s, pipeline ${pipeline.seconds.toFixed(1)} s (${ratio(product.seconds, pipeline.seconds)}); largest process ${product.peakMiB.toFixed(0)} vs ${pipeline.peakMiB.toFixed(0)} MiB`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return lines;
}

async function nxFleetTable(template: string, sizes: number[], parallels: number[]): Promise<string[]> {
  const { render, runs } = await nxFleet(template, sizes, parallels);
  const cell = (m: Measure) => `${m.seconds.toFixed(1).padStart(6)} s ${m.cpuSeconds.toFixed(1).padStart(6)} s ${m.peakMiB.toFixed(0).padStart(5)} MiB`;
  return [
    `  through Nx: N clusters (${template}'s values), each a throwaway control plane, nx run-many -t crds --parallel P;`,
    `  render-crds rendered once for the fleet in ${render.seconds.toFixed(1)} s, then an Nx cache hit. CPU: Nx and the phases, not the control planes.`,
    '  clusters  --parallel |   cold: wall    CPU  largest |  no-op: wall    CPU  largest | cold per cluster',
    ...runs.map(
      (r) => `  ${String(r.clusters).padStart(8)}  ${String(r.parallel).padStart(10)} | ${cell(r.cold)} | ${cell(r.noop)} | ${(r.cold.seconds / r.clusters).toFixed(1).padStart(6)} s`,
    ),
  ];
}

/** `parts`: which of a, b and c to run (BENCHMARK_SECTIONS=7c runs only the Nx fleet). */
export async function benchmarkFleet(names: string[], parts: Set<string>, sizes: number[], nxSizes: number[], parallels: number[]): Promise<void> {
  const lines = [
    ...(parts.has('a') ? [await noopAgainstFirstRun(names)] : []),
    ...(parts.has('b') ? await parallelClusters(await loadCluster(names.at(-1)!), sizes) : []),
    ...(parts.has('c') ? await nxFleetTable(names.at(-1)!, nxSizes, parallels) : []),
  ];
  process.stdout.write(`7. fleet (${bundleDir(names.at(-1)!).replace(`${workspaceRoot}/`, '')}'s bundle for the parallel lines)\n${lines.join('\n')}\n\n`);
}
