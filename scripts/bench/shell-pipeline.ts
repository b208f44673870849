// The shell pipeline users run today, as the benchmarks run it against the product:
//   helmfile template --include-crds | yq 'select(.kind == "CustomResourceDefinition")' |
//     kubectl apply --server-side --force-conflicts -f - && kubectl wait --for condition=established crd --all
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';
import { helmfileArgs } from '../../tasks/lib/tools/helmfile.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';

const quote = (args: string[]) => args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');

/** One bash command: render the cluster's 00-crds, keep the CRDs, apply them to `kubectl` (with its flags) and wait. */
export function shellPipeline(cluster: ClusterConfig, kubectl: string): string {
  const render = `cd ${paths.helmfileDir} && helmfile ${quote(helmfileArgs({ cluster, context: cluster.context }, paths.crdsHelmfile))} template --include-crds --skip-tests`;
  return `(set -o pipefail; ${render} | yq 'select(.kind == "CustomResourceDefinition")' | ${kubectl} apply --server-side --force-conflicts -f - >/dev/null && ${kubectl} wait --for condition=established crd --all --timeout=600s >/dev/null)`;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export const ratio = (product: number, pipeline: number) => (product <= pipeline ? `${(pipeline / product).toFixed(2)}x faster` : `${(product / pipeline).toFixed(2)}x slower`);
