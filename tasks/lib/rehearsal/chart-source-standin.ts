// The rehearsal's stand-in for source-controller on the tree's chart OCIRepositories: their
// registries are public and this machine does not reach them, so the rehearsal's source-controller
// watches only the synced source. Each chart OCIRepository is resolved against the registry mirror
// as soon as it is applied (real helm: `helm show chart` with its tag or semver range), and gets
// Ready or a Stalled failure with the push that fixes it, like source-controller would, so a
// Kustomization that waits on its chart sources (`flux-repositories`, wait: true) behaves as on a
// cluster, before any HelmRelease uses them. Every message says it is the stand-in's.
import type { KubernetesObject } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { listObjects, type Kube } from '../cluster/kube.ts';
import { readyCondition } from '../cluster/readiness.ts';
import { reachFix, throughMirror } from '../gitops/chart-store.ts';
import { onceEach } from '../runtime/once-each.ts';
import { startPoller, type Poller } from '../runtime/poller.ts';
import { runTool } from '../tools/run-tool.ts';
import { REHEARSAL_SOURCE_LABEL } from './flux-controllers.ts';
import { writeStandinStatus } from './standin-status.ts';

export const SOURCE_STANDIN = 'rehearsal stand-in for source-controller';

/** Flux's layer media type for a Helm chart (an OCIRepository a HelmRelease's chartRef names). */
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

type Obj = KubernetesObject & { spec?: Record<string, any>; status?: Record<string, any> };

const current = (o: Obj) => o.status?.['observedGeneration'] === o.metadata?.generation && readyCondition(o) !== undefined;

export interface ChartSourceOutcome {
  source: string;
  ready: boolean;
  message: string;
}

/** `helm show chart`'s version line: the tag, or what a semver range resolved to. */
const chartVersion = (chartYaml: string) => /^version:\s*(\S+)/m.exec(chartYaml)?.[1];

export function startChartSourceStandin(kube: Kube, kubeconfig: string, cluster: ClusterConfig, logCluster: string): Pick<Poller, 'stop'> & { outcomes: ChartSourceOutcome[]; inFlight(): number; lastOutcomeAt(): number } {
  const outcomes: ChartSourceOutcome[] = [];
  const limit = pLimit(2);
  const running = new Map<string, Promise<void>>();
  let lastOutcome = 0;
  const plainHttp = cluster.registryMirror?.plainHttp ? ['--plain-http'] : [];

  // One `helm show chart` per chart and version for the whole rehearsal: a tree names one chart
  // from many OCIRepositories (the generated tree 64). One that failed is asked again next time.
  const showOnce = onceEach<string>();
  const showChartOnce = (source: Obj, id: string, url: string, version: string) =>
    showOnce(`${url}@${version}`, () =>
      runTool({
        tool: 'helm',
        args: ['show', 'chart', throughMirror(url, cluster), '--version', version, ...plainHttp],
        env: { ...process.env, KUBECONFIG: kubeconfig },
        cluster: logCluster,
        logName: `standin-source-${source.metadata?.name}`,
        subject: `OCIRepository ${id}`,
        fix: 'see the message',
      }),
    );

  const resolve = async (source: Obj) => {
    const id = `${source.metadata?.namespace}/${source.metadata?.name}`;
    const pin = source.spec?.['ref'] ?? {};
    const version = pin['tag'] ?? pin['semver'];
    const url = String(source.spec?.['url'] ?? '');
    let condition: { status: 'True' | 'False'; reason: string; message: string };
    if (!version) {
      condition = { status: 'False', reason: 'NotRehearsed', message: `not rehearsed: ${pin['digest'] ? 'pinned only by digest (ref.digest), which only Flux resolves' : 'no ref.tag or ref.semver'}` };
    } else {
      try {
        const chart = await showChartOnce(source, id, url, String(version));
        condition = { status: 'True', reason: 'Succeeded', message: `stored artifact for digest '${chartVersion(chart) ?? version}' (chart pulled through the registry mirror)` };
      } catch {
        const fix = reachFix({ url, version: String(version) }, cluster);
        condition = { status: 'False', reason: 'OCIArtifactPullFailed', message: `failed to pull ${url}:${version} through the registry mirror; fix: ${fix}` };
      }
    }
    outcomes.push({ source: id, ready: condition.status === 'True', message: condition.message });
    await writeStandinStatus(kube, source, 'ocirepositories', [
      { type: 'Ready', ...condition, message: `${condition.message} (${SOURCE_STANDIN})` },
      ...(condition.status === 'False' ? [{ type: 'Stalled', status: 'True' as const, reason: condition.reason, message: condition.message }] : []),
    ]).catch(() => undefined);
    lastOutcome = Date.now();
  };

  const poller = startPoller(async () => {
    const sources = (await listObjects(kube, 'source.toolkit.fluxcd.io/v1', 'OCIRepository').catch(() => [])) as Obj[];
    for (const source of sources) {
      const key = `${source.metadata?.namespace}/${source.metadata?.name}@${source.metadata?.generation}`;
      const isChart = source.spec?.['layerSelector']?.['mediaType'] === HELM_CHART_LAYER;
      if (!isChart || source.metadata?.labels?.[REHEARSAL_SOURCE_LABEL] || current(source) || running.has(key)) continue;
      running.set(key, limit(() => resolve(source)).finally(() => running.delete(key)));
    }
  }, 1000);
  return {
    outcomes,
    inFlight: () => running.size,
    lastOutcomeAt: () => lastOutcome,
    stop: async () => {
      await poller.stop();
      await Promise.all(running.values());
    },
  };
}
