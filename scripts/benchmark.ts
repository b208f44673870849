// Side-by-side benchmarks, measured in one run, printed as ratios (tests never time anything).
//   npm run benchmark            (needs the built tools; the rerun benchmark needs the sandbox up)
// 1. Keeping the CRDs of rendered charts: the TypeScript filter render-crds uses (js-yaml) vs
//    the original plan's yq post-renderer filter, on the same rendered YAML.
// 2. Loading the bundle: js-yaml vs yaml.
// 3. A crds rerun with nothing to do: the hash + field-manager shortcut vs a server-side
//    dry-run of every CRD.
// 4. The audit (Flux rehearsal) of a generated tree of several hundred files, cold and warm.
// 5. The CRD phase against the shell pipeline users run today (scripts/benchmark-pipeline.ts):
//    cold, warm, and warm after the pipeline touched the CRDs. It deletes the sandbox cluster
//    apps's CRDs (and their objects) for the cold case: nx run apps:bootstrap afterwards.
// 6. Growth from 100 to 1000 CRDs, cold, in throwaway control planes (scripts/benchmark-scale.ts).
// 7. Fleet (scripts/benchmark-fleet.ts): a no-op run-many bootstrap against the first run on
//    recreated sandbox clusters, 1, 2 and 4 clusters at once in throwaway control planes, and
//    1, 2, 4 and 8 clusters through nx run-many at --parallel 1, 2 and 4.
// 8. The live rehearsal (Flux's controllers) beside the audit, on the example tree and on a generated tree of real size (scripts/benchmark-rehearse.ts).
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadBundle } from '../tasks/lib/bundle/bundle-files.ts';
import { HASH_ANNOTATION, isCrd, type Crd } from '../tasks/lib/model/crd-bundle.ts';
import { planCrds } from '../tasks/lib/crds/crd-plan.ts';
import { loadCluster } from '../tasks/lib/model/config.ts';
import { connect } from '../tasks/lib/cluster/kube.ts';
import { parseManifests } from '../tasks/lib/runtime/manifests.ts';
import { loadMachineWritten, parseHandWrittenDocuments } from '../tasks/lib/runtime/yaml.ts';
import { withToolsOnPath } from '../tasks/lib/tools/tool-identity.ts';
import { bundleDir } from '../tasks/lib/runtime/workspace.ts';
import { benchmarkAudit } from './benchmark-audit.ts';
import { benchmarkFleet } from './benchmark-fleet.ts';
import { benchmarkPipeline } from './benchmark-pipeline.ts';
import { benchmarkRehearse } from './benchmark-rehearse.ts';
import { benchmarkScale } from './benchmark-scale.ts';

const ROUNDS = 5;
// The long sections (4 to 8) to run, e.g. BENCHMARK_SECTIONS=5,7 (7a, 7b, 7c for parts of 7); all by default.
const sections = new Set((process.env['BENCHMARK_SECTIONS'] ?? '4,5,6,7,8').split(','));

async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

function report(title: string, a: [string, number], b: [string, number]): void {
  process.stdout.write(
    `${title}\n  ${a[0].padEnd(34)} ${a[1].toFixed(1).padStart(9)} ms\n  ${b[0].padEnd(34)} ${b[1].toFixed(1).padStart(9)} ms\n  ratio ${(b[1] / a[1]).toFixed(2)}x (${b[0]} / ${a[0]}), median of ${ROUNDS}\n\n`,
  );
}

withToolsOnPath();
const cluster = process.argv[2] ?? 'infra';
const bundleFile = path.join(bundleDir(cluster), 'crds.yaml');
const bundleText = await readFile(bundleFile, 'utf8').catch(() => {
  throw new Error(`no bundle at ${bundleFile}: run nx run ${cluster}:render-crds first`);
});
// What helmfile template prints: CRDs mixed with a chart's other objects.
const rendered = `${bundleText}---\n${(await $({ quiet: true })`helm template x test/fixtures/charts/external-secrets --set installCRDs=false`).stdout}`;
const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
const renderedFile = path.join(scratch, 'rendered.yaml');
await writeFile(renderedFile, rendered);

const expected = parseManifests(rendered, 'rendered').filter(isCrd).length;
const viaYq = (await $({ quiet: true })`yq ${'select(.kind == "CustomResourceDefinition")'} ${renderedFile}`).stdout;
if (parseManifests(viaYq, 'yq').length !== expected) throw new Error('yq and the TypeScript filter disagree');
report(
  `1. filter ${expected} CRDs out of ${(rendered.length / 1e6).toFixed(1)} MB of rendered YAML`,
  ['TypeScript (js-yaml, in process)', await median(async () => (loadMachineWritten(rendered) as KubernetesObject[]).filter((o) => o && isCrd(o)))],
  ['yq post-renderer (one process)', await median(() => $({ quiet: true })`yq ${'select(.kind == "CustomResourceDefinition")'} ${renderedFile}`)],
);

report(
  '2. load the bundle',
  ['js-yaml', await median(async () => loadMachineWritten(bundleText))],
  ['yaml (parseAllDocuments)', await median(async () => parseHandWrittenDocuments(bundleText).map((d) => d.toJS()))],
);
const bundleJson = await readFile(path.join(bundleDir(cluster), 'crds.json'), 'utf8');
report(
  '2b. load the bundle: the JSON copy the engine reads',
  ['JSON.parse (crds.json)', await median(async () => JSON.parse(bundleJson))],
  ['js-yaml (crds.yaml)', await median(async () => loadMachineWritten(bundleText))],
);

const config = await loadCluster(cluster);
const kube = connect({ kubeconfigPath: config.kubeconfigPath, context: config.context });
try {
  const bundle = await loadBundle(cluster);
  const withoutHash = {
    ...bundle,
    crds: bundle.crds.map((crd): Crd => {
      const annotations = { ...crd.metadata.annotations };
      delete annotations[HASH_ANNOTATION];
      return { ...crd, metadata: { ...crd.metadata, annotations } };
    }),
  };
  const plan = await planCrds(kube, bundle);
  if (plan.entries.some((e) => e.action !== 'unchanged')) throw new Error(`run nx run ${cluster}:crds first: the cluster is not up to date`);
  report(
    `3. crds rerun with nothing to do (${bundle.crds.length} CRDs, ${config.context})`,
    ['hash + field managers', await median(() => planCrds(kube, bundle))],
    ['server-side dry-run of every CRD', await median(() => planCrds(kube, withoutHash))],
  );
} catch (error) {
  process.stdout.write(`3. crds rerun: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
}
await rm(scratch, { recursive: true, force: true });

if (sections.has('5')) {
  try {
    await benchmarkPipeline(process.env['BENCHMARK_PIPELINE_CLUSTER'] ?? 'apps');
  } catch (error) {
    process.stdout.write(`5. CRD phase vs the shell pipeline: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
  }
}

if (sections.has('6')) {
  try {
    await benchmarkScale((process.env['BENCHMARK_SCALE'] ?? '100,300,1000').split(',').map(Number));
  } catch (error) {
    process.stdout.write(`6. growth 100 → 1000 CRDs: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
  }
}

const fleetParts = new Set(['a', 'b', 'c'].filter((part) => sections.has('7') || sections.has(`7${part}`)));
if (fleetParts.size > 0) {
  try {
    const sizes = (variable: string, fallback: string) => (process.env[variable] ?? fallback).split(',').filter(Boolean).map(Number);
    await benchmarkFleet(['infra', 'apps'], fleetParts, sizes('BENCHMARK_FLEET', '1,2,4'), sizes('BENCHMARK_FLEET_NX', '1,2,4,8'), sizes('BENCHMARK_FLEET_PARALLEL', '1,2,4'));
  } catch (error) {
    process.stdout.write(`7. fleet: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
  }
}

if (sections.has('4')) {
  try {
    await benchmarkAudit(cluster);
  } catch (error) {
    process.stdout.write(`4. audit of a generated tree: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
  }
}

if (sections.has('8')) {
  try {
    process.stdout.write('8. the live rehearsal beside the audit, example tree (infra)\n');
    await benchmarkRehearse();
  } catch (error) {
    process.stdout.write(`8. rehearse: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
  }
}
