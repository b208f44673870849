// The charts one audit reads, each pulled once (untarred, through the registry mirror) and shared by
// everything that renders it: the CRD render (helmrelease-crds.ts), the capability renders
// (capability-gated.ts) and the hand-off's renders (handover-renders.ts). Each used to pull its own
// copy: three helm processes per chart. Also answers, from the chart's files without a render,
// what its templates can produce. A chart the registry names by digest is kept on disk with its
// renders (chart-cache.ts): the next audit pulls and renders only what changed.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { paths } from '../runtime/workspace.ts';
import { runTool } from '../tools/run-tool.ts';
import { openChartCache, type ChartCache } from './chart-cache.ts';

export interface ChartRef {
  url: string;
  version: string;
}

export interface PulledChart {
  /** The untarred chart: helm template and show take it as they take the archive. */
  dir: string;
  /** Chart.yaml's version: what a semver range resolved to. */
  version: string;
  /** Every template of the chart and its unpacked subcharts, as one text. */
  templates: string;
  /** Their values.yaml files, as one text. */
  values: string;
  /** The files of its crds/ folders (and its subcharts'), which helm installs before the templates. */
  crdFiles: string;
  /** Subcharts kept as archives (charts/*.tgz): their files are not in the texts above. */
  packedSubcharts: boolean;
  /** The registry's digest of the chart, when it said: its renders are kept on disk (chart-cache.ts). */
  digest?: string;
}

/** One `helm template`: who asks (for helm's log and its error) and what is rendered. */
export interface RenderRequest {
  chart: ChartRef;
  releaseName: string;
  namespace: string;
  values: Record<string, unknown>;
  /** `--api-versions`: what the cluster serves beyond the built-in APIs at that moment. */
  apiVersions: string[];
  subject: string;
  logName: string;
}

export interface ChartStore {
  /** Rejects with helm's error when the chart cannot be pulled (each caller says what that means for it). */
  pull(chart: ChartRef): Promise<PulledChart>;
  /**
   * helm template's output. The same render asked twice runs once: the CRD render, the hand-off's
   * tree side and, for a release whose values do not change hands, its core side are one render.
   */
  render(request: RenderRequest): Promise<string>;
  /** What this store did: helm pulls and charts read from the disk cache, helm templates and renders read back. */
  stats(): ChartStoreStats;
  close(): Promise<void>;
}

export interface ChartStoreStats {
  pulled: number;
  chartsKept: number;
  rendered: number;
  rendersKept: number;
}

// Exactly as pinned: unlike the hand-off's chart key, v1.2.3 and 1.2.3 are two tags to pull.
const storeKey = (chart: ChartRef) => `${chart.url}@${chart.version}`;

export async function openChartStore(cluster: ClusterConfig, cache: ChartCache = openChartCache(cluster)): Promise<ChartStore> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'charts-'));
  // One bound on the helm processes of pulls and renders: as many as there are cores.
  const limit = pLimit(availableParallelism());
  const pulls = new Map<string, Promise<PulledChart>>();
  const renders = new Map<string, Promise<string>>();
  const stats: ChartStoreStats = { pulled: 0, chartsKept: 0, rendered: 0, rendersKept: 0 };
  // helm's own version is part of every kept render's key: another helm may render otherwise.
  const helmVersion = readFile(paths.toolsVersions, 'utf8').then((text) => /^HELM_VERSION=(.+)$/m.exec(text)?.[1] ?? '');
  const pull = (chart: ChartRef) => {
    const key = storeKey(chart);
    if (!pulls.has(key)) {
      // The folder is named now, not when the limit lets the pull run: two charts never share one.
      const dir = path.join(scratch, `chart-${pulls.size}`);
      const helm = (args: string[]) => runTool({ tool: 'helm', args, cluster: cluster.name, logName: `chart-${path.basename(chart.url)}-${chart.version}`, subject: `chart ${chart.url}:${chart.version}`, fix: reachFix(chart, cluster) });
      pulls.set(
        key,
        limit(async () => {
          const digest = await cache.digest(throughMirror(chart.url, cluster), chart.version);
          const kept = digest && (await cache.chartDir(digest));
          if (kept) {
            stats.chartsKept++;
            return { ...(await readChart(kept, helm)), digest };
          }
          const pulled = await pullChart(chart, cluster, dir, helm, { untar: true });
          stats.pulled++;
          return digest ? { ...(await readChart(await cache.keepChart(digest, pulled), helm)), digest } : readChart(pulled, helm);
        }),
      );
    }
    return pulls.get(key)!;
  };
  return {
    pull,
    render: (request) => {
      const { chart, releaseName, namespace, values, apiVersions } = request;
      const key = JSON.stringify([storeKey(chart), releaseName, namespace, values, [...apiVersions].sort()]);
      if (!renders.has(key)) {
        const valuesFile = path.join(scratch, `values-${renders.size}.json`);
        renders.set(
          key,
          pull(chart).then(async ({ dir, digest }) => {
            const run = () =>
              limit(async () => {
                await writeFile(valuesFile, JSON.stringify(values));
                stats.rendered++;
                return runTool({
                  tool: 'helm',
                  args: ['template', releaseName, dir, '--namespace', namespace, '--values', valuesFile, '--kube-version', `${cluster.kubernetesVersion}.0`, ...apiVersionArgs(apiVersions)],
                  cluster: cluster.name,
                  logName: request.logName,
                  subject: request.subject,
                  fix: reachFix(chart, cluster),
                });
              });
            // Only a chart the registry named by digest is rendered from disk; a failed render is never kept.
            if (!digest) return run();
            const { text, kept } = await cache.render([digest, releaseName, namespace, values, [...apiVersions].sort(), cluster.kubernetesVersion, await helmVersion], run);
            if (kept) stats.rendersKept++;
            return text;
          }),
        );
      }
      return renders.get(key)!;
    },
    stats: () => ({ ...stats }),
    close: async () => {
      await Promise.all([rm(scratch, { recursive: true, force: true }), cache.prune()]);
    },
  };
}

/** helm's `--api-versions` for each API a render may take as served. */
export const apiVersionArgs = (apiVersions: string[]): string[] => apiVersions.flatMap((v) => ['--api-versions', v]);

async function readChart(dir: string, helm: (args: string[]) => Promise<string>): Promise<PulledChart> {
  const files = await readdir(dir, { recursive: true });
  const packedSubcharts = files.some((f) => /^(charts\/[^/]+\/)*charts\/[^/]+\.tgz$/.test(f));
  const read = (wanted: RegExp) => Promise.all(files.filter((f) => wanted.test(f)).map((f) => readFile(path.join(dir, f), 'utf8')));
  const [chartYaml, templates, values, crdFiles] = await Promise.all([
    readFile(path.join(dir, 'Chart.yaml'), 'utf8'),
    read(/(^|\/)templates\/.*\.(ya?ml|tpl|txt)$/),
    read(/(^|\/)values\.ya?ml$/),
    // As helm's CRDObjects reads them: files under crds/ of the chart and of each subchart.
    // A packed subchart's are read by helm.
    packedSubcharts ? helm(['show', 'crds', dir]).then((text) => [text]) : read(/^(charts\/[^/]+\/)*crds\/.+\.(ya?ml|json)$/),
  ]);
  return { dir, version: /^version:\s*["']?([^"'\s]+)/m.exec(chartYaml)?.[1] ?? '', templates: templates.join('\n'), values: values.join('\n'), crdFiles: crdFiles.join('\n---\n'), packedSubcharts };
}

const WORKLOAD = /^\s*kind:\s*["']?(Deployment|StatefulSet|DaemonSet)\b/m;

/**
 * Whether its templates can render a CRD with these values: only if a template names the kind,
 * reads the chart's files (.Files.Get, .Files.Glob: a CRD kept as a file), or the values carry it
 * (a template may print them). When none does, no render is needed to know there is none.
 */
export function templatesMayRenderCrds(chart: PulledChart, values: Record<string, unknown>): boolean {
  const mentions = (text: string) => text.includes('CustomResourceDefinition');
  return chart.packedSubcharts || mentions(chart.templates) || chart.templates.includes('.Files.') || mentions(chart.values) || mentions(JSON.stringify(values));
}

/** Whether its templates name a workload kind (a chart of CRDs alone names none). */
export const templatesRunWorkload = (chart: PulledChart): boolean => chart.packedSubcharts || WORKLOAD.test(chart.templates);

/** Where helm finds an upstream oci:// chart: under the registry mirror, which keeps the upstream path. */
export function throughMirror(url: string, cluster: ClusterConfig): string {
  const mirror = cluster.registryMirror;
  return mirror ? `oci://${mirror.host.replace(/\/*$/, '')}/${url.replace(/^oci:\/\//, '')}` : url;
}

/**
 * Pulls the chart (oci://…, through the mirror) into dir with `helm`; returns the archive's path,
 * or with `untar` the chart's folder (for a caller that reads its templates).
 */
export async function pullChart({ url, version }: { url: string; version: string }, cluster: ClusterConfig, dir: string, helm: (args: string[]) => Promise<string>, { untar = false } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await helm(['pull', throughMirror(url, cluster), '--version', version, ...(untar ? ['--untar', '--untardir', dir] : ['--destination', dir]), ...(cluster.registryMirror?.plainHttp ? ['--plain-http'] : [])]);
  const [pulled] = (await readdir(dir)).filter((f) => untar || f.endsWith('.tgz'));
  return path.join(dir, pulled!);
}

/** How to make a chart the audit could not pull reachable: the sandbox push, or the mirror. */
export function reachFix(chart: { url: string; version: string }, cluster: ClusterConfig): string {
  const bare = chart.url.replace(/^oci:\/\//, '');
  const name = path.basename(bare);
  const upstream = path.dirname(bare);
  const mirror = cluster.registryMirror?.host;
  if (!mirror) return `make ${chart.url}:${chart.version} reachable from this machine, or set registryMirror in cluster.yaml to a mirror that holds it`;
  return `copy ${name} ${chart.version} into the registry mirror ${mirror} at ${upstream} (the sandbox: helm pull it where it is reachable, then npm run sandbox -- push ${name}-${chart.version}.tgz --path ${upstream})`;
}
