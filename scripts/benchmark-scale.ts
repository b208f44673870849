// Growth from 100 to 1000 CRDs (about 10% over 256 KiB as JSON), cold, in throwaway control
// planes (the sandbox's binaries): the crds engine (scripts/bench/apply-crds.ts) against
// kubectl apply --server-side + kubectl wait, time and peak memory for each size.
//   BENCHMARK_SCALE=100,300,1000 npm run benchmark
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { manifestEntry, type Crd } from '../tasks/lib/model/crd-bundle.ts';
import { PHASE_ENV, PHASE_NODE_FLAGS } from '../tasks/lib/runtime/phase-process.ts';
import { startThrowawayApiserver } from '../tasks/lib/cluster/throwaway-apiserver.ts';
import { writeYaml } from '../tasks/lib/runtime/yaml.ts';
import { measure, type Measure } from './bench/gnu-time.ts';

function generatedCrd(i: number, large: boolean): Crd {
  // Large ones carry bulk properties, like prometheus-operator's: over 256 KiB as JSON.
  const bulk = large ? Object.fromEntries(Array.from({ length: 1400 }, (_, j) => [`field${j}`, { type: 'string', description: `Generated field ${j} of widget ${i}: `.padEnd(160, 'x') }])) : {};
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets${i}.bench.example.io` },
    spec: {
      group: 'bench.example.io',
      scope: 'Namespaced',
      names: { kind: `Widget${i}`, plural: `widgets${i}`, singular: `widget${i}`, listKind: `Widget${i}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' }, ...bulk } } } } } }],
    },
  };
}

export async function benchmarkScale(sizes: number[]): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-scale-'));
  const lines: string[] = [];
  try {
    for (const size of sizes) {
      const crds = Array.from({ length: size }, (_, i) => generatedCrd(i, i % 10 === 0));
      const large = crds.filter((c) => JSON.stringify(c).length > 262144).length;
      const json = path.join(scratch, `bundle-${size}.json`);
      const yaml = path.join(scratch, `bundle-${size}.yaml`);
      await writeFile(json, JSON.stringify({ crds, manifest: { cluster: 'bench', environment: 'bench', crds: crds.map((c) => manifestEntry(c, 'bench')) } }));
      await writeFile(yaml, crds.map((c) => writeYaml(c)).join('---\n'));
      const measured: Record<string, Measure> = {};
      for (const side of ['product', 'pipeline'] as const) {
        const plane = await startThrowawayApiserver();
        try {
          const kubeconfig = plane.kubeconfig;
          const env = { ...process.env, KUBECONFIG: kubeconfig };
          measured[side] =
            side === 'product'
              ? await measure(`node ${PHASE_NODE_FLAGS} scripts/bench/apply-crds.ts ${kubeconfig} throwaway ${json}`, { ...env, ...PHASE_ENV })
              : await measure(`kubectl apply --server-side --force-conflicts -f ${yaml} >/dev/null && kubectl wait --for condition=established crd --all --timeout=900s >/dev/null`, env);
        } finally {
          await plane.stop();
        }
      }
      const { product, pipeline } = measured as Record<'product' | 'pipeline', Measure>;
      lines.push(
        `  ${String(size).padStart(5)} CRDs (${large} over 256 KiB): product ${product.seconds.toFixed(1)} s, ${product.peakMiB.toFixed(0)} MiB; pipeline ${pipeline.seconds.toFixed(1)} s, ${pipeline.peakMiB.toFixed(0)} MiB; ratio ${(pipeline.seconds / product.seconds).toFixed(2)}x time, ${(product.peakMiB / pipeline.peakMiB).toFixed(2)}x memory`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`6. growth, cold, in a throwaway control plane (crds engine vs kubectl apply --server-side + wait)\n${lines.join('\n')}\n\n`);
}
