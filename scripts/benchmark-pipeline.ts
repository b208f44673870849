// The CRD phase against the shell pipeline users run today, on one sandbox cluster, same bundle,
// runs alternating, medians and ratios:
//   helmfile template --include-crds | yq 'select(.kind == "CustomResourceDefinition")' |
//     kubectl apply --server-side --force-conflicts -f - && kubectl wait --for condition=established crd --all
// Product: nx run <cluster>:crds --excludeTaskDependencies (the workspace's nx; Nx start-up and the phase; the render
// is cached and prereqs writes secrets, so both are left out).
// DESTRUCTIVE for the cluster's custom resources: the cold case deletes the bundle's CRDs (and so
// every object of them). Run it on a sandbox cluster, then nx run <cluster>:bootstrap.
//   npm run benchmark -- --pipeline [cluster]     (default cluster: apps)
import path from 'node:path';
import { loadBundle } from '../tasks/lib/bundle/bundle-files.ts';
import { bundleDir } from '../tasks/lib/runtime/workspace.ts';
import { loadCluster } from '../tasks/lib/model/config.ts';
import { measure, type Measure } from './bench/gnu-time.ts';
import { median, ratio, shellPipeline } from './bench/shell-pipeline.ts';

// Each cold round deletes and recreates every CRD twice (a minute or more each on 2 cores).
const ROUNDS = Number(process.env['BENCHMARK_PIPELINE_ROUNDS'] ?? 3);

export async function benchmarkPipeline(clusterName = 'apps'): Promise<void> {
  const cluster = await loadCluster(clusterName);
  if (!cluster.sandbox) throw new Error(`${clusterName} is not a sandbox cluster: this benchmark deletes CRDs, run it on the sandbox only`);
  const bundle = await loadBundle(cluster.name);
  const names = bundle.crds.map((c) => c.metadata.name);
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath, NX_DAEMON: 'false' };
  const kubectl = `kubectl --context ${cluster.context}`;
  const pipeline = shellPipeline(cluster, kubectl);
  // Nx start-up included; prereqs left out (it writes the cluster's secrets, which a benchmark must
  // not need) and the render is an Nx cache hit either way.
  const product = `nx run ${cluster.name}:crds --excludeTaskDependencies --outputStyle=stream >/dev/null`;
  const deleteCrds = `${kubectl} delete crd ${names.join(' ')} --ignore-not-found --wait >/dev/null`;

  // The API server's own floor: kubectl alone applying the bundle already rendered (no render,
  // no plan, no judgement before the first write) and waiting for Established.
  const floor = `${kubectl} apply --server-side --force-conflicts -f ${path.join(bundleDir(cluster.name), 'crds.yaml')} >/dev/null && ${kubectl} wait --for condition=established crd --all --timeout=600s >/dev/null`;
  // Another field manager applying the same CRDs, as Flux's kustomize-controller does on a GitOps cluster.
  const otherManager = `${kubectl} apply --server-side --force-conflicts --field-manager=kustomize-controller -f ${path.join(bundleDir(cluster.name), 'crds.yaml')} >/dev/null`;

  const rows: string[] = [];
  const record = (title: string, p: Measure[], q: Measure[], extra = '') => {
    const [pt, qt] = [median(p.map((m) => m.seconds)), median(q.map((m) => m.seconds))];
    const [pm, qm] = [median(p.map((m) => m.peakMiB)), median(q.map((m) => m.peakMiB))];
    rows.push(`  ${title.padEnd(58)} product ${pt.toFixed(1).padStart(5)} s  pipeline ${qt.toFixed(1).padStart(5)} s  ${ratio(pt, qt)} (${(pt / qt).toFixed(2)} of its time); peak ${pm.toFixed(0)} vs ${qm.toFixed(0)} MiB (${(pm / qm).toFixed(2)}x)${extra}`);
  };

  // Cold: no CRDs in the cluster; alternate product, pipeline and the floor, deleting in between.
  const cold: [Measure[], Measure[], Measure[]] = [[], [], []];
  for (let i = 0; i < ROUNDS; i++) {
    await measure(deleteCrds, env);
    cold[0].push(await measure(product, env));
    await measure(deleteCrds, env);
    cold[1].push(await measure(pipeline, env));
    await measure(deleteCrds, env);
    cold[2].push(await measure(floor, env));
  }
  // Warm, applied by the product alone: created by it, no other manager on any CRD.
  await measure(deleteCrds, env);
  await measure(product, env);
  const owned: Measure[] = [];
  for (let i = 0; i < ROUNDS; i++) owned.push(await measure(product, env));
  // Warm and shared: another manager applied the same CRDs just before (the pipeline's kubectl,
  // or kustomize-controller as on a GitOps cluster); the product proves them unchanged by hash.
  const afterPipeline: Measure[] = [];
  const afterFlux: Measure[] = [];
  const pipelineWarm: Measure[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    pipelineWarm.push(await measure(pipeline, env));
    afterPipeline.push(await measure(product, env));
    await measure(otherManager, env);
    afterFlux.push(await measure(product, env));
  }
  // The product's rows run the workspace's nx (node_modules/.bin, first on PATH in `npm run
  // benchmark`); `npx nx`, as the README writes it, starts npm first: measured here, not added.
  const npx: Measure[] = [];
  const bare: Measure[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    npx.push(await measure('npx nx --version >/dev/null', env));
    bare.push(await measure('nx --version >/dev/null', env));
  }
  const [npxSeconds, bareSeconds] = [median(npx.map((m) => m.seconds)), median(bare.map((m) => m.seconds))];
  const floorSeconds = median(cold[2].map((m) => m.seconds));
  record(`cold: ${names.length} CRDs, none in the cluster`, cold[0], cold[1], `; API-server floor (kubectl apply of the rendered bundle + wait) ${floorSeconds.toFixed(1)} s, product ${(median(cold[0].map((m) => m.seconds)) / floorSeconds).toFixed(2)}x of it`);
  record('warm: CRDs applied by the product alone', owned, pipelineWarm);
  record('warm, shared: the pipeline applied them just before', afterPipeline, pipelineWarm);
  record('warm, shared: kustomize-controller applied them just before', afterFlux, pipelineWarm);
  rows.push(`  npx in front of nx adds ${(npxSeconds - bareSeconds).toFixed(2)} s to every row's product (npx nx --version ${npxSeconds.toFixed(2)} s, nx --version ${bareSeconds.toFixed(2)} s)`);
  process.stdout.write(`5. the CRD phase vs the shell pipeline (${cluster.context}, ${names.length} CRDs, median of ${ROUNDS}, runs alternating)\n${rows.join('\n')}\n\n`);
}
