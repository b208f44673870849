// What the hand-off comparison (handover.ts) needs from the charts themselves: each chart's default
// values, and the objects helm renders for both sides of each twin (core's release with helmfile's
// values, the HelmRelease with its own), with one Kubernetes version, so that what Flux's first
// reconcile changes is named object by object. Each chart is pulled once through the registry
// mirror. A chart that cannot be pulled, or values that do not render, leave that comparison to the
// values, with the reason: never an abort.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { loadMachineWritten } from '../runtime/yaml.ts';
import { runTool } from '../tools/run-tool.ts';
import { chartKey, counterpartOf, type CoreRelease, type HandoverRenders } from './handover.ts';
import { apiVersionArgs, pullChart, reachFix, toolSaid, type HelmReleaseSource } from './helmrelease-crds.ts';

interface Side {
  /** Names its log. */
  key: string;
  chart: { url: string; version: string };
  releaseName: string;
  namespace: string;
  values: Record<string, unknown>;
  /** Where the values come from, for a render that fails. */
  what: string;
}

/**
 * `apiVersions`: what the cluster serves beyond the built-in APIs when Flux first reconciles (the
 * crds phase's kinds, `group/version` and `group/version/Kind`): helm-controller renders with the
 * cluster's capabilities, so a chart that gates objects on them (a ServiceMonitor) renders both
 * sides as it will there.
 */
export async function renderHandover(core: CoreRelease[], tree: HelmReleaseSource[], cluster: ClusterConfig, apiVersions: string[]): Promise<HandoverRenders> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'handover-'));
  const limit = pLimit(availableParallelism());
  // One log per chart or side: calls run in parallel.
  const helm = (subject: string, chart: { url: string; version: string }, logName = `handover-${path.basename(chart.url)}-${chart.version}`) => (args: string[]) =>
    runTool({ tool: 'helm', args, cluster: cluster.name, logName, subject, fix: reachFix(chart, cluster) });
  const pulls = new Map<string, Promise<string>>();
  const archiveOf = (chart: { url: string; version: string }) => {
    const key = chartKey(chart.url, chart.version);
    if (!pulls.has(key)) {
      // The folder is named now, not when the limit lets the pull run: by then other pulls are
      // queued, and two charts in one folder would read each other's archive.
      const dir = path.join(scratch, `chart-${pulls.size}`);
      pulls.set(key, limit(() => pullChart(chart, cluster, dir, helm(`chart ${chart.url}:${chart.version}`, chart))));
    }
    return pulls.get(key)!;
  };
  const render = async (side: Side, file: string): Promise<KubernetesObject[]> => {
    const archive = await archiveOf(side.chart);
    await writeFile(file, JSON.stringify(side.values));
    const text = await limit(() =>
      helm(side.what, side.chart, `handover-${side.key}`)(['template', side.releaseName, archive, '--namespace', side.namespace, '--values', file, '--kube-version', `${cluster.kubernetesVersion}.0`, ...apiVersionArgs(apiVersions)]),
    );
    return loadMachineWritten(text).filter((o): o is KubernetesObject => !!o && typeof o === 'object');
  };

  try {
    const pairs = core.map((release) => ({ release, twin: counterpartOf(release, tree).twin }));
    const charts = pairs.flatMap(({ release, twin }) => [
      { url: `oci://${release.chart}`, version: release.version },
      ...(twin && !('unresolved' in twin.chart) ? [twin.chart] : []),
    ]);
    const unique = [...new Map(charts.map((c) => [chartKey(c.url, c.version), c])).entries()];
    const [defaults, manifests] = await Promise.all([
      Promise.all(
        unique.map(async ([key, chart]) => {
          const text = await archiveOf(chart).then((archive) => limit(() => helm(`chart ${chart.url}:${chart.version}`, chart)(['show', 'values', archive]))).catch(() => undefined);
          const values = text === undefined ? undefined : (loadMachineWritten(text)[0] as Record<string, unknown> | null | undefined);
          return values ? ([key, values] as const) : undefined;
        }),
      ),
      Promise.all(
        pairs.map(async ({ release, twin }, i): Promise<[string, { core: KubernetesObject[]; tree: KubernetesObject[] } | { unrendered: string }] | undefined> => {
          const id = `${release.namespace}/${release.name}`;
          if (!twin || 'unresolved' in twin.chart || twin.missingValues.length) return undefined;
          const sides: [Side, Side] = [
            { key: `core-${release.name}`, chart: { url: `oci://${release.chart}`, version: release.version }, releaseName: release.name, namespace: release.namespace, values: release.values, what: `core release ${id} (${release.at})` },
            { key: `tree-${twin.name}`, chart: twin.chart, releaseName: twin.releaseName, namespace: twin.targetNamespace, values: twin.values, what: `HelmRelease ${twin.namespace}/${twin.name} (${twin.file})` },
          ];
          try {
            const [before, after] = await Promise.all(sides.map((side, s) => render(side, path.join(scratch, `values-${i}-${s}.json`))));
            return [id, { core: before!, tree: after! }];
          } catch (error) {
            return [id, { unrendered: toolSaid(error) }];
          }
        }),
      ),
    ]);
    return { defaults: new Map(defaults.filter((d) => d !== undefined)), manifests: new Map(manifests.filter((m) => m !== undefined)) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
