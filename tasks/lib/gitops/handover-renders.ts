// What the hand-off comparison (handover.ts) needs from the charts themselves: each chart's default
// values, and the objects helm renders for both sides of each twin (core's release with helmfile's
// values, the HelmRelease with its own), with one Kubernetes version, so that what Flux's first
// reconcile changes is named object by object. Each chart is pulled once through the registry
// mirror. A chart that cannot be pulled, or values that do not render, leave that comparison to the
// values, with the reason: never an abort.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadMachineWritten, loadObjects } from '../runtime/yaml.ts';
import { chartKey, counterpartOf, type CoreRelease, type HandoverRenders } from './handover.ts';
import type { ChartStore } from './chart-store.ts';
import { toolSaid, type HelmReleaseSource } from './helmrelease-crds.ts';

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
export async function renderHandover(core: CoreRelease[], tree: HelmReleaseSource[], apiVersions: string[], charts: ChartStore): Promise<HandoverRenders> {
  // One log per side: renders run in parallel.
  const render = async (side: Side): Promise<KubernetesObject[]> => {
    const text = await charts.render({ chart: side.chart, releaseName: side.releaseName, namespace: side.namespace, values: side.values, apiVersions, subject: side.what, logName: `handover-${side.key}` });
    return loadObjects(text);
  };

  const pairs = core.map((release) => ({ release, twin: counterpartOf(release, tree).twin }));
  const pinned = pairs.flatMap(({ release, twin }) => [
    { url: `oci://${release.chart}`, version: release.version },
    ...(twin && !('unresolved' in twin.chart) ? [twin.chart] : []),
  ]);
  const unique = [...new Map(pinned.map((c) => [chartKey(c.url, c.version), c])).entries()];
  const [defaults, manifests] = await Promise.all([
    Promise.all(
      unique.map(async ([key, chart]) => {
        // The chart's own values.yaml, as `helm show values` prints it.
        const text = await charts.pull(chart).then((pulled) => readFile(path.join(pulled.dir, 'values.yaml'), 'utf8')).catch(() => undefined);
        const values = text === undefined ? undefined : (loadMachineWritten(text)[0] as Record<string, unknown> | null | undefined);
        return values ? ([key, values] as const) : undefined;
      }),
    ),
    Promise.all(
      pairs.map(async ({ release, twin }): Promise<[string, { core: KubernetesObject[]; tree: KubernetesObject[] } | { unrendered: string }] | undefined> => {
        const id = `${release.namespace}/${release.name}`;
        if (!twin || 'unresolved' in twin.chart || twin.missingValues.length) return undefined;
        const sides: [Side, Side] = [
          { key: `core-${release.name}`, chart: { url: `oci://${release.chart}`, version: release.version }, releaseName: release.name, namespace: release.namespace, values: release.values, what: `core release ${id} (${release.at})` },
          { key: `tree-${twin.name}`, chart: twin.chart, releaseName: twin.releaseName, namespace: twin.targetNamespace, values: twin.values, what: `HelmRelease ${twin.namespace}/${twin.name} (${twin.file})` },
        ];
        try {
          const [before, after] = await Promise.all(sides.map(render));
          return [id, { core: before!, tree: after! }];
        } catch (error) {
          return [id, { unrendered: toolSaid(error) }];
        }
      }),
    ),
  ]);
  return { defaults: new Map(defaults.filter((d) => d !== undefined)), manifests: new Map(manifests.filter((m) => m !== undefined)) };
}
