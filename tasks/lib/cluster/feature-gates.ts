// A cluster's API-server feature gates and runtime config (cluster.yaml kubernetes.*), checked
// against the gates the pinned kube-apiserver knows (its --help lists them with their maturity),
// and passed to kwokctl for the sandbox and the rehearsal's plane (kwokctl gives them to every
// component: kube-apiserver, controller-manager, scheduler).
import { closest } from 'fastest-levenshtein';
import type { ClusterConfig } from '../model/config.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { relative } from '../runtime/workspace.ts';
import { runTool } from '../tools/run-tool.ts';

/** Gate name → its maturity and default as kube-apiserver states it, e.g. "ALPHA - default=false". */
export type KnownGates = Map<string, string>;

/** The gates listed under --feature-gates in kube-apiserver's --help ("kube:Name=true|false (BETA - default=true)"). */
export function parseKnownGates(help: string): KnownGates {
  return new Map([...help.matchAll(/^\s*(?:kube:)?([A-Z][A-Za-z0-9]+)=true\|false \(([^)]*)\)/gm)].map(([, name, state]) => [name!, state!]));
}

export async function knownGates(apiserver: string, logCluster: string): Promise<KnownGates> {
  const help = await runTool({ tool: apiserver, args: ['--help'], cluster: logCluster, logName: 'kube-apiserver-help', subject: 'kube-apiserver --help', fix: 'rebuild the tools: scripts/build-tools.sh kubernetes' });
  return parseKnownGates(help);
}

/** Refuses a gate the pinned kube-apiserver does not know (a typo, or one removed), naming the file, the key and the closest known gate. */
export function checkFeatureGates(cluster: Pick<ClusterConfig, 'file' | 'kubernetes'>, known: KnownGates): void {
  for (const gate of Object.keys(cluster.kubernetes.featureGates)) {
    if (known.has(gate)) continue;
    const near = closest(gate, [...known.keys()]);
    throw new BootstrapError({
      subject: `${relative(cluster.file)}: kubernetes.featureGates.${gate}`,
      problem: `is not a feature gate of the pinned kube-apiserver (${known.size} known; removed, or misspelt)`,
      fix: near ? `did you mean ${near} (${known.get(near)})? Otherwise remove it` : 'remove it',
    });
  }
}

const pairs = (values: Record<string, boolean>) =>
  Object.entries(values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

/** kwokctl create cluster's arguments for them (none when the cluster declares none). */
export function kwokctlKubernetesArgs({ kubernetes }: Pick<ClusterConfig, 'kubernetes'>): string[] {
  return [
    ...(Object.keys(kubernetes.featureGates).length ? ['--kube-feature-gates', pairs(kubernetes.featureGates)] : []),
    ...(Object.keys(kubernetes.runtimeConfig).length ? ['--kube-runtime-config', pairs(kubernetes.runtimeConfig)] : []),
  ];
}
