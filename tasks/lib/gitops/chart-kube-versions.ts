// Charts that refuse a Kubernetes minor: every chart of helmfile.d and of the tree's HelmReleases,
// its Chart.yaml kubeVersion read from the registry (through the mirror) and judged by Helm. Helm
// refuses to install or upgrade such a chart, and helm-controller with it, so after the upgrade
// the release is stuck at its old version.
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { chartKubeVersion, kubeVersionRefusal, type ChartSource } from '../tools/chart-kube-version.ts';
import type { HelmfileRelease } from '../tools/helmfile.ts';
import { throughMirror } from './chart-store.ts';
import { toolSaid, type HelmReleaseSource } from './helmrelease-crds.ts';

export interface ChartUse {
  /** Who installs it: "helmfile.d/01-core.yaml.gotmpl release cert-manager" or "HelmRelease ns/name". */
  usedBy: string;
  /** The file that pins it. */
  file: string;
  chart: string;
  version: string;
  /** How helm reaches it; absent when the chart cannot be read offline, with why. */
  source?: ChartSource;
  unresolved?: string;
}

export interface ChartVerdict extends ChartUse {
  kubeVersion?: string;
  /** What Helm says when it refuses the minor. */
  refusal?: string;
  /** Why the chart could not be judged (unreachable, not pinned by tag). */
  notJudged?: string;
}

export function helmfileChartUses(stateFile: string, releases: HelmfileRelease[], cluster: ClusterConfig): ChartUse[] {
  // The state files prefix every chart with the mirror: named by its upstream place, read through the mirror.
  const mirror = cluster.registryMirror && `oci://${cluster.registryMirror.host.replace(/\/*$/, '')}/`;
  return releases
    .filter((r) => r.enabled)
    .map((r) => ({
      usedBy: `${stateFile} release ${r.name}`,
      file: stateFile,
      chart: mirror && r.chart.startsWith(mirror) ? `oci://${r.chart.slice(mirror.length)}` : r.chart,
      version: r.version,
      source: { ref: r.chart, version: r.version, plainHttp: cluster.registryMirror?.plainHttp ?? false },
    }));
}

export function treeChartUses(releases: HelmReleaseSource[], cluster: ClusterConfig): ChartUse[] {
  return releases.map((r) => {
    const usedBy = `HelmRelease ${r.namespace}/${r.name}`;
    if ('unresolved' in r.chart) return { usedBy, file: r.file, chart: '', version: '', unresolved: r.chart.unresolved };
    const { url, version, file } = r.chart;
    return { usedBy, file, chart: url, version, source: { ref: throughMirror(url, cluster), version, plainHttp: cluster.registryMirror?.plainHttp ?? false } };
  });
}

/** Each distinct chart is read once and each distinct constraint judged once, a helm per core. */
export async function judgeCharts(uses: ChartUse[], minor: string, cluster: ClusterConfig): Promise<ChartVerdict[]> {
  const limit = pLimit(availableParallelism());
  const constraints = new Map<string, Promise<string | undefined>>();
  const read = new Map<string, Promise<string | undefined>>();
  return Promise.all(
    uses.map(async (use): Promise<ChartVerdict> => {
      if (!use.source) return { ...use, notJudged: use.unresolved ?? 'no chart source' };
      const key = `${use.source.ref}@${use.source.version}`;
      if (!read.has(key)) read.set(key, limit(() => chartKubeVersion(use.source!, cluster.name)));
      let kubeVersion: string | undefined;
      try {
        kubeVersion = await read.get(key)!;
      } catch (error) {
        if (!(error instanceof BootstrapError)) throw error;
        return { ...use, notJudged: `chart unreachable: ${toolSaid(error)}` };
      }
      if (!kubeVersion) return { ...use };
      if (!constraints.has(kubeVersion)) constraints.set(kubeVersion, limit(() => kubeVersionRefusal(kubeVersion!, minor)));
      const refusal = await constraints.get(kubeVersion)!;
      return { ...use, kubeVersion, ...(refusal ? { refusal } : {}) };
    }),
  );
}
