// The Kubernetes minors this tool knows: each has a list of the kinds its API server serves by
// default (tasks/lib/gitops/builtin-kinds/<minor>.json, generated from k8s.io/kubernetes by
// scripts/generate-builtin-kinds.ts). cluster.yaml's kubernetesVersion must be one of them.
export const KUBERNETES_MINORS = ['1.33', '1.34', '1.35', '1.36', '1.37'] as const;

export type KubernetesMinor = (typeof KUBERNETES_MINORS)[number];

export const DEFAULT_KUBERNETES_MINOR: KubernetesMinor = '1.36';

/** "1.34" → 34: minors compare as numbers ("1.9" < "1.10"). */
export function minorOf(version: string): number {
  const match = /^1\.(\d+)$/.exec(version);
  if (!match) throw new Error(`not a Kubernetes minor version: ${version}`);
  return Number(match[1]);
}
