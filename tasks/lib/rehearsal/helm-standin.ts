// The rehearsal's stand-in for Flux's helm-controller, which the Go module proxy does not serve.
// It does what helm-controller does for a first install, with real helm: reads the HelmRelease the
// way the audit does (gitops/helmrelease.ts: chart from its live source through the registry
// mirror, valuesFrom and values, release name and namespaces), honours dependsOn and install.crds,
// installs and waits, and writes Ready for the current
// generation, so that kustomize-controller's dependsOn, wait and health checks see what they would
// on a real cluster. It also stands in for source-controller on the chart sources it reads (their
// registries are not reachable from here): a source is Ready once its chart came through the
// mirror. A chart the mirror does not hold is Stalled with the push that fixes it; never Ready.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { listObjects, readObject, type Kube } from '../cluster/kube.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { runTool } from '../tools/run-tool.ts';
import { dependenciesOf, resolveHelmRelease, type Lookup } from '../gitops/helmrelease.ts';
import { onceEach } from '../runtime/once-each.ts';
import { startPoller } from '../runtime/poller.ts';
import { readyCondition } from '../cluster/readiness.ts';
import { pullChart, reachFix } from '../gitops/chart-store.ts';
import { writeStandinStatus } from './standin-status.ts';

/** Said wherever the stand-in's work shows: in every condition message it writes. */
export const STANDIN = 'rehearsal stand-in for helm-controller';

type Obj = KubernetesObject & { spec?: Record<string, any>; status?: Record<string, any>; data?: Record<string, string> };

export interface StandinEvent {
  release: string;
  ready: boolean;
  message: string;
  /** The failure is the rehearsal's limit, not the release's (reported, not counted). */
  notRehearsed?: boolean;
  /** How long the install took (chart pull and helm's install with its wait), for a Ready one. */
  seconds?: number;
}

const REHEARSAL_SERVICE_RANGE = /^127\.64\./;

/**
 * Helm failures that come from the rehearsal's own limits, with what to say instead: a Service
 * clusterIP outside the rehearsal's range, whether the install asks for it or an upgrade moves a
 * Service core created to it (a clusterIP may not change once set; core, on the sandbox, left the
 * address to the API server: coredns' intended difference in the example).
 */
export function rehearsalLimit(message: string): string | undefined {
  const asked = /failed to allocate IP ([0-9a-f.:]+): the provided network does not match the current range/.exec(message)?.[1];
  const moved = /spec\.clusterIPs?(?:\[0\])?: Invalid value: (?:\[\]string\{|\[)?"([0-9a-f.:]+)"(?:\}|\])?: may not change once set/.exec(message)?.[1];
  const ip = asked ?? (moved && !REHEARSAL_SERVICE_RANGE.test(moved) ? moved : undefined);
  if (ip) return `not rehearsed: the chart pins a Service clusterIP ${ip}, outside the rehearsal's Service range 127.64.0.0/16 (kept on loopback so that no call leaves this machine)`;
  return undefined;
}

export interface HelmStandin {
  /**
   * A HelmRelease is being worked on, or the stand-in has not looked at them all since something
   * that may have made or unblocked one: an install here, or `since` (ms; the caller's last such
   * moment: a chart source's outcome, a Kustomization's change). Without the second half, a
   * HelmRelease (flux-instance's, applied by a Kustomization without wait) sat unseen for up to a
   * poll while the watch saw every Kustomization Ready, and the rehearsal ended before the hand-off.
   */
  busy(since: number): boolean;
  events: StandinEvent[];
  stop(): Promise<void>;
}

const HR = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', group: 'helm.toolkit.fluxcd.io', version: 'v2', plural: 'helmreleases' };
const idOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
const currentlyReady = (o: Obj) => o.status?.['observedGeneration'] === o.metadata?.generation && readyCondition(o)?.status === 'True';

const API_VERSIONS: Record<string, string> = { OCIRepository: 'source.toolkit.fluxcd.io/v1', HelmRepository: 'source.toolkit.fluxcd.io/v1', ConfigMap: 'v1', Secret: 'v1' };

/**
 * The objects the HelmRelease names (chart source, values' ConfigMaps and Secrets), read one by one
 * as the cluster has them now: resolved once with what is known, the objects it asked for are read,
 * until it asks for nothing new. Listing every source, ConfigMap and Secret (helm's release Secrets
 * among them) for each install was most of the stand-in's load on the API server.
 */
async function liveLookup(kube: Kube, release: Obj): Promise<Lookup> {
  const known = new Map<string, Obj | undefined>();
  const key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  for (;;) {
    const asked = new Map<string, KubernetesObject>();
    resolveHelmRelease(release, (kind, ns, name) => {
      const k = key(kind, ns, name);
      if (!known.has(k) && API_VERSIONS[kind]) asked.set(k, { apiVersion: API_VERSIONS[kind], kind, metadata: { name, namespace: ns } });
      return known.get(k);
    });
    if (!asked.size) return (kind, ns, name) => known.get(key(kind, ns, name));
    await Promise.all([...asked].map(async ([k, header]) => known.set(k, await readObject<Obj>(kube, header))));
  }
}

const SOURCE_PLURALS = { OCIRepository: 'ocirepositories', HelmRepository: 'helmrepositories' } as const;

const said = (error: unknown) => {
  const text = error instanceof BootstrapError ? error.problem : error instanceof Error ? error.message : String(error);
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('(full output')).at(-1) ?? text;
};

/** Starts reconciling every HelmRelease of the cluster behind `kubeconfig` until stopped. */
export function startHelmStandin(kube: Kube, kubeconfig: string, context: string, cluster: ClusterConfig, logCluster: string): HelmStandin {
  const events: StandinEvent[] = [];
  const running = new Map<string, Promise<void>>();
  const stalled = new Set<string>();
  // Installs mostly wait (helm's watcher, the API server): four at a time keep parallel dependsOn chains moving.
  const limit = pLimit(4);
  // Each chart is pulled once per rehearsal (a tree installs one chart many times; the generated tree 64 times).
  const pulled = onceEach<string>();
  const chartDirs: string[] = [];
  // When an install last ended (Ready or stalled), and when the last poll pass that dispatched began.
  let lastOutcome = 0;
  let lastLook = 0;
  const env = { ...process.env, KUBECONFIG: kubeconfig };

  const helm = (release: Obj, args: string[]) =>
    runTool({ tool: 'helm', args: [...args, '--kube-context', context], env, cluster: logCluster, logName: `standin-${release.metadata?.name}`, subject: `HelmRelease ${idOf(release)}`, fix: 'see the message', write: true });

  // A chart that could not be pulled is tried again by the next release that names it.
  const pullOnce = (release: Obj, chart: { url: string; version: string }) =>
    pulled(`${chart.url}@${chart.version}`, () => {
      const dir = path.join(os.tmpdir(), `standin-chart-${process.pid}-${chartDirs.length}`);
      chartDirs.push(dir);
      return pullChart(chart, cluster, dir, (args) => helm(release, args));
    });

  const install = async (release: Obj) => {
    const id = idOf(release);
    const fail = async (reason: string, message: string, terminal: boolean) => {
      // Asked again every second while it waits: said once.
      if (!terminal && readyCondition(release)?.reason === reason) return;
      if (terminal) {
        stalled.add(`${id}@${release.metadata?.generation}`);
        lastOutcome = Date.now();
      }
      const limit = rehearsalLimit(message);
      events.push({ release: id, ready: false, message: limit ?? message, ...(limit || message.startsWith('not rehearsed') ? { notRehearsed: true } : {}) });
      await writeStandinStatus(kube, release, HR.plural, [
        { type: 'Ready', status: 'False', reason, message: `${message} (${STANDIN})` },
        ...(terminal ? [{ type: 'Stalled', status: 'True' as const, reason, message }] : []),
      ]).catch(() => undefined);
    };
    for (const dep of dependenciesOf(release)) {
      const all = (await listObjects(kube, HR.apiVersion, HR.kind, dep.namespace)) as Obj[];
      const found = all.find((o) => o.metadata?.name === dep.name);
      if (!found || !currentlyReady(found)) {
        return fail('DependencyNotReady', `dependency '${dep.namespace}/${dep.name}' is not ready`, false);
      }
    }
    const lookup = await liveLookup(kube, release);
    const resolved = resolveHelmRelease(release, lookup);
    const { chart } = resolved;
    // A source not applied yet may come with a later Kustomization: asked again, as helm-controller would.
    if ('unresolved' in chart) return fail('ChartNotResolved', `not rehearsed: ${chart.unresolved}`, !chart.unresolved.endsWith('does not exist'));
    // Values from a Secret an ExternalSecret has not written yet: helm-controller waits for it.
    if (resolved.missingValues.length) return fail('ValuesNotFound', `could not read values: ${resolved.missingValues.join(', ')}`, false);
    const source = lookup(chart.source.kind, chart.source.namespace, chart.source.name)!;
    const sourcePlural = SOURCE_PLURALS[chart.source.kind];
    const began = Date.now();
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'standin-'));
    try {
      let archive: string;
      try {
        archive = await pullOnce(release, chart);
      } catch (error) {
        const message = `not rehearsed: chart unreachable: ${said(error)}`;
        await writeStandinStatus(kube, source, sourcePlural, [{ type: 'Ready', status: 'False', reason: 'ChartUnreachable', message: `${message} (${STANDIN})` }]).catch(() => undefined);
        return fail('ChartUnreachable', `${message}; fix: ${reachFix(chart, cluster)}`, true);
      }
      await writeStandinStatus(kube, source, sourcePlural, [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: `chart ${chart.version} pulled through the registry mirror (${STANDIN})` }]).catch(() => undefined);
      const valuesFile = path.join(scratch, 'values.json');
      await writeFile(valuesFile, JSON.stringify(resolved.values));
      // helm keeps the release in the namespace it installs to: a storageNamespace apart from the
      // targetNamespace is not rehearsed (helm's CLI has no such flag).
      const { targetNamespace: namespace, releaseName: name, install } = resolved;
      await helm(release, [
        'upgrade', '--install', name, archive, '--namespace', namespace, '--values', valuesFile,
        ...(install.createNamespace ? ['--create-namespace'] : []),
        ...(install.crds === 'Skip' ? ['--skip-crds'] : []),
        ...(install.disableWait ? [] : ['--wait=watcher']),
        // helm-controller adopts what already exists (Helm's TakeOwnership) unless told not to:
        // the CRDs the crds phase applied, the release the core phase installed.
        ...(install.disableTakeOwnership ? [] : ['--take-ownership']),
        '--timeout', resolved.timeout,
      ]);
      const message = `Helm install succeeded for release ${namespace}/${name} with chart ${chart.url.split('/').at(-1)}@${chart.version}`;
      events.push({ release: id, ready: true, message, seconds: (Date.now() - began) / 1000 });
      await writeStandinStatus(kube, release, HR.plural, [{ type: 'Ready', status: 'True', reason: 'InstallSucceeded', message: `${message} (${STANDIN})` }], { lastAttemptedRevision: chart.version });
      lastOutcome = Date.now();
    } catch (error) {
      await fail('InstallFailed', `Helm install failed: ${said(error)}`, true);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };

  const poller = startPoller(async () => {
    const began = Date.now();
    const releases = (await listObjects(kube, HR.apiVersion, HR.kind).catch(() => [])) as Obj[];
    for (const release of releases) {
      const key = `${idOf(release)}@${release.metadata?.generation}`;
      if (currentlyReady(release) || stalled.has(key) || running.has(key)) continue;
      running.set(key, limit(() => install(release)).catch(() => undefined).finally(() => running.delete(key)));
    }
    lastLook = began;
  }, 1000);

  return {
    busy: (since) => running.size > 0 || lastLook <= Math.max(lastOutcome, since),
    events,
    stop: async () => {
      await poller.stop();
      await Promise.all(running.values());
      await Promise.all(chartDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
