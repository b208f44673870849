// Where a cold crds run's time goes, against the API server's own floor, each in a fresh
// throwaway control plane (the sandbox's etcd and kube-apiserver, loopback only):
// - floor: kubectl apply --server-side of the rendered bundle, then kubectl wait for Established;
// - the engine's steps, timed one by one: the list and plan, the dry-run of every create
//   (at several concurrencies), the writes, and the wait until Established and served.
//   node scripts/bench/cold-breakdown.ts [cluster]     (default apps; needs its rendered bundle)
import path from 'node:path';
import { $ } from 'zx';
import { loadBundle } from '../../tasks/lib/bundle/bundle-files.ts';
import { listCrds } from '../../tasks/lib/cluster/kube.ts';
import { startThrowawayApiserver, type ThrowawayApiserver } from '../../tasks/lib/cluster/throwaway-apiserver.ts';
import { planCrds } from '../../tasks/lib/crds/crd-plan.ts';
import { waitUntilServed } from '../../tasks/lib/crds/crd-status.ts';
import { applyChanges, dryRunCreates, DRY_RUN_CONCURRENCY, largestFirst } from '../../tasks/lib/crds/crd-writes.ts';
import { bundleDir } from '../../tasks/lib/runtime/workspace.ts';
import { withToolsOnPath } from '../../tasks/lib/tools/tool-identity.ts';

async function inPlane<T>(body: (plane: ThrowawayApiserver) => Promise<T>): Promise<T> {
  const plane = await startThrowawayApiserver(120_000);
  try {
    return await body(plane);
  } finally {
    await plane.stop();
  }
}

const seconds = (since: number) => (performance.now() - since) / 1000;

export async function coldBreakdown(clusterName: string): Promise<string[]> {
  withToolsOnPath();
  const bundle = await loadBundle(clusterName);
  const yaml = path.join(bundleDir(clusterName), 'crds.yaml');
  const floor = await inPlane(async (plane) => {
    const kubectl = ['kubectl', '--kubeconfig', plane.kubeconfig];
    let start = performance.now();
    await $({ quiet: true })`${kubectl} apply --server-side --force-conflicts -f ${yaml}`;
    const apply = seconds(start);
    start = performance.now();
    await $({ quiet: true })`${kubectl} wait --for condition=established crd --all --timeout=600s`;
    return { apply, wait: seconds(start) };
  });
  const engine = await inPlane(async ({ kube }) => {
    let start = performance.now();
    const live = await listCrds(kube);
    const plan = await planCrds(kube, bundle, {}, live);
    const planned = seconds(start);
    const creates = largestFirst(plan.entries.filter((e) => e.action === 'create'));
    const byName = new Map(bundle.crds.map((crd) => [crd.metadata.name, crd]));
    start = performance.now();
    const stored = await dryRunCreates(kube, creates.map((e) => byName.get(e.name)!), clusterName);
    const dryRun = seconds(start);
    start = performance.now();
    // The same steps writeCrds runs one after the other, timed apart.
    const result = await applyChanges(kube, bundle, creates, stored);
    if (result.failure) throw result.failure.error;
    const writes = seconds(start);
    start = performance.now();
    await waitUntilServed(kube, bundle.crds, undefined, { timeoutMs: 600_000, what: 'CRDs' });
    return { planned, dryRun, writes, wait: seconds(start) };
  });
  // The same dry-runs at other concurrencies, each in a fresh plane (nothing created yet).
  const concurrencies = [1, DRY_RUN_CONCURRENCY, 16, bundle.crds.length];
  const dryRuns: string[] = [];
  for (const concurrency of concurrencies) {
    const took = await inPlane(async ({ kube }) => {
      const start = performance.now();
      await dryRunCreates(kube, bundle.crds, clusterName, concurrency);
      return seconds(start);
    });
    dryRuns.push(`${concurrency} at once ${took.toFixed(2)} s`);
  }
  const total = engine.planned + engine.dryRun + engine.writes + engine.wait;
  return [
    `  cold, ${bundle.crds.length} CRDs, one fresh throwaway control plane each, no Nx and no process start-up:`,
    `  floor (kubectl apply --server-side of the rendered bundle + kubectl wait): ${(floor.apply + floor.wait).toFixed(2)} s (apply ${floor.apply.toFixed(2)} s, wait ${floor.wait.toFixed(2)} s)`,
    `  engine: ${total.toFixed(2)} s = list + plan ${engine.planned.toFixed(2)} s, dry-run of every create ${engine.dryRun.toFixed(2)} s, writes ${engine.writes.toFixed(2)} s, wait until Established and served ${engine.wait.toFixed(2)} s; ${(total / (floor.apply + floor.wait)).toFixed(2)}x the floor`,
    `  dry-run of every create alone: ${dryRuns.join(', ')}`,
  ];
}

if (import.meta.main) process.stdout.write(`${(await coldBreakdown(process.argv[2] ?? 'apps')).join('\n')}\n`);
