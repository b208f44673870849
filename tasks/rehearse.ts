// rehearse: Flux itself brings the tree up from empty. A throwaway kwok cluster (real etcd,
// kube-apiserver, controller-manager, scheduler; kwok for nodes and pods) gets the bootstrap's own
// prereqs (secrets as placeholders), crds and core; then Flux's source-controller and
// kustomize-controller reconcile the tree from gitops.entry, with a stand-in for helm-controller
// (helm-standin.ts). Reports each Kustomization in the order Flux made it Ready, with Flux's own
// messages, and the audit's prediction beside Flux's verdict. Exit 0 all Ready and agreed,
// 1 findings, 2 error. Everything runs on loopback and is removed afterwards.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyAll } from './lib/cluster/apply.ts';
import { createKwokCluster, deleteKwokCluster } from './lib/cluster/kwok-cluster.ts';
import { keepWebhooksAnswered } from './lib/cluster/webhook-keeper.ts';
import { listObjects, readObject, type Kube } from './lib/cluster/kube.ts';
import type { ClusterConfig } from './lib/model/config.ts';
import type { Crd } from './lib/model/crd-bundle.ts';
import { waitUntilServed } from './lib/crds/crd-status.ts';
import { decryptionSecretsOf, keepDecryptionPlaceholders } from './lib/rehearsal/decryption-placeholders.ts';
import { operatorsFor } from './lib/gitops/operators.ts';
import { servedKinds, simulatedKinds, startOperatorStandin } from './lib/rehearsal/operator-standin.ts';
import { startFluxControllers, REHEARSAL_SOURCE_LABEL, type FluxControllers } from './lib/rehearsal/flux-controllers.ts';
import { startHelmStandin, STANDIN, type HelmStandin, type StandinEvent } from './lib/rehearsal/helm-standin.ts';
import { compareWithAudit, watchKustomizations, type Comparison, type LiveResult } from './lib/rehearsal/live-rehearsal.ts';
import { PLACEHOLDER, serveTree, type ServedTree } from './lib/rehearsal/tree-artifact.ts';
import { createRehearsalDir, sweepOrphanedRehearsals } from './lib/rehearsal/rehearsal-workdir.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { groupOf } from './lib/runtime/manifests.ts';
import { freePort } from './lib/runtime/free-port.ts';
import { duringWrite } from './lib/runtime/interrupt.ts';
import { createProgress } from './lib/runtime/progress.ts';
import { code, md } from './lib/runtime/markdown.ts';
import { loadMachineWritten } from './lib/runtime/yaml.ts';
import { paths, workspaceRoot } from './lib/runtime/workspace.ts';
import { parseTaskOptions, reportTarget, type ReportResult, type TaskContext } from './lib/runner/task.ts';
import { predict } from './audit.ts';
import { writingChain } from './lib/model/phases.ts';
import { judgedTreeRoot } from './lib/gitops/cluster-tree.ts';
import { applyCrds } from './crds.ts';
import { installCore } from './core.ts';
import { prereqs } from './prereqs.ts';
import { conditionReadiness } from './lib/cluster/readiness.ts';
import { waitUntilReady } from './lib/cluster/wait.ts';

/** The body of each phase a bootstrap runs that writes (the phase table's writingChain), run on the throwaway cluster. */
export const BOOTSTRAP_WRITES: Record<string, (ctx: TaskContext) => Promise<void>> = { prereqs, crds: applyCrds, core: installCore };

/**
 * What the phases run against in a rehearsal: the throwaway plane (its kubeconfig, context and
 * identity, which the guard checks as on any cluster), the cluster's files otherwise; their own
 * options at their defaults (the rehearsal's --timeout is not core's helm wait), placeholders for
 * every secret.
 */
function rehearsalContext(ctx: TaskContext, kube: Kube, plane: { kubeconfig: string; context: string; server: string }): TaskContext {
  const cluster: ClusterConfig = { ...ctx.cluster, kubeconfigPath: plane.kubeconfig, context: plane.context, identity: { server: plane.server } };
  return { ...ctx, options: parseTaskOptions(['--cluster', cluster.name]), cluster, context: plane.context, kube: () => kube, placeholderSecrets: PLACEHOLDER };
}

async function fluxCrds(): Promise<Crd[]> {
  const dir = paths.fluxCrds;
  const files = await readdir(dir).catch(() => {
    throw new BootstrapError({ subject: 'Flux CRDs', problem: `${dir} does not exist`, fix: 'run scripts/build-tools.sh flux-crds (after source-controller and kustomize-controller)' });
  });
  const texts = await Promise.all(files.filter((f) => f.endsWith('.yaml')).map((f) => readFile(path.join(dir, f), 'utf8')));
  return texts.flatMap((t) => loadMachineWritten(t) as Crd[]).filter((o) => o?.kind === 'CustomResourceDefinition');
}

type Obj = KubernetesObject & { spec?: Record<string, any> };

/** What the FluxInstance's sync would create: the synced source (our served tree) and the root Kustomization. */
function syncObjects(cluster: ClusterConfig, served: ServedTree): KubernetesObject[] {
  const meta = { name: 'flux-system', namespace: 'flux-system' };
  return [
    { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { ...meta, labels: { [REHEARSAL_SOURCE_LABEL]: 'true' } }, spec: { interval: '10m', url: served.url, insecure: true, ref: { tag: 'latest' } } } as KubernetesObject,
    { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: meta, spec: { interval: '10m', path: `./${cluster.gitops!.entry}`, prune: true, sourceRef: { kind: 'OCIRepository', name: 'flux-system' } } } as KubernetesObject,
  ];
}

async function waitForReady(kube: Kube, object: KubernetesObject, timeoutMs: number): Promise<void> {
  const name = `${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`;
  await waitUntilReady([name], async () => {
    const live = await readObject(kube, object);
    return new Map(live ? [[name, conditionReadiness(live, 'Ready')]] : []);
  }, { timeoutMs, what: `${name} to be Ready`, fix: 'read the source-controller log (kept on failure in the rehearsal folder)' });
}

/** How many objects of each custom kind the tree applies exist now, e.g. PrometheusRule: 9. */
async function customObjectCounts(kube: Kube, objects: Obj[]): Promise<Record<string, number>> {
  const kinds = new Map<string, { apiVersion: string; kind: string }>();
  for (const o of objects) {
    const group = groupOf(o.apiVersion);
    if (group.includes('.') && !group.endsWith('.k8s.io') && !group.endsWith('fluxcd.io')) kinds.set(`${o.apiVersion} ${o.kind}`, { apiVersion: o.apiVersion!, kind: o.kind! });
  }
  const counts: Record<string, number> = {};
  for (const { apiVersion, kind } of kinds.values()) {
    counts[kind] = (counts[kind] ?? 0) + (await listObjects(kube, apiVersion, kind).then((l) => l.length).catch(() => 0));
  }
  return counts;
}

export async function rehearseLive(ctx: TaskContext): Promise<ReportResult> {
  const { cluster, log } = ctx;
  if (!cluster.gitops) {
    throw new BootstrapError({ subject: `${cluster.file}: gitops`, problem: 'is not set: there is no GitOps tree to rehearse', fix: 'add gitops.entry: the path the FluxInstance syncs' });
  }
  const started = Date.now();
  // One root for both halves: the audit's prediction and the tree Flux is served.
  const gitopsRoot = judgedTreeRoot('rehearse', cluster.name, ctx.options.gitopsRoot);
  const { rehearsal: prediction, tree } = await predict(ctx, gitopsRoot);
  for (const orphan of await sweepOrphanedRehearsals(cluster.name)) log.warning(`removed the cluster of a rehearsal that was killed: ${orphan}`);
  const { dir, plane } = await createRehearsalDir(cluster.name);
  const cleanup: Array<() => Promise<void>> = [];
  let live: LiveResult | undefined;
  let controllers: FluxControllers | undefined;
  let standin: HelmStandin | undefined;
  const registered: Array<{ operator: string; release: string; kinds: string[] }> = [];
  try {
    const port = await freePort();
    log.action(`starting a throwaway control plane on https://127.0.0.1:${port} (kwok, loopback only)`);
    cleanup.push(() => deleteKwokCluster(plane, `remove ${plane.workdir} by hand`));
    const kube = await createKwokCluster({ ...plane, apiServerPort: port, nodes: 2 }, `read the logs under ${plane.workdir}`, log);
    const context = `kwok-${plane.name}`;
    // A kwok pod runs no webhook server: the responder answers at each webhook Service's ClusterIP, as in the sandbox.
    const webhooks = keepWebhooksAnswered(kube, path.join(dir, 'webhooks.log'));
    cleanup.push(() => webhooks.stop());
    const phaseCtx = rehearsalContext(ctx, kube, { kubeconfig: plane.kubeconfig, context, server: `https://127.0.0.1:${port}` });
    const planeReady = Date.now();
    log.action(`${writingChain().join(', ')} (secrets as placeholders), as the bootstrap runs them`);
    for (const phase of writingChain()) await BOOTSTRAP_WRITES[phase]!(phaseCtx);
    const bootstrapped = Date.now();

    const crds = await fluxCrds();
    await applyAll(kube, crds);
    await waitUntilServed(kube, crds, undefined, { timeoutMs: ctx.timeoutMs, what: "Flux's CRDs to be served", fix: 'read the throwaway API server log' });
    const objects = tree.kustomizations.flatMap((k) => k.objects.map((o) => o.object as Obj));
    const placeholders = keepDecryptionPlaceholders(kube, decryptionSecretsOf(objects));
    cleanup.push(() => placeholders.stop());
    const served = await serveTree(path.resolve(workspaceRoot, gitopsRoot ?? cluster.gitops.root), cluster.gitops.folders ?? [cluster.gitops.entry.split(/[\\/]/)[0]!], cluster.name);
    cleanup.push(() => served.stop());
    for (const placeholder of served.placeholders) log.info(`SOPS document replaced by a placeholder: ${placeholder}`);
    const simulated = simulatedKinds(operatorsFor(cluster.gitops.operators), objects, await servedKinds(kube));
    const operators = startOperatorStandin(kube, simulated, (operator, kinds) => {
      registered.push({ operator: operator.name, release: operator.release, kinds });
      log.info(`simulated ${operator.name}: registered ${kinds.join(', ')} once release ${operator.release} was deployed`);
    });
    cleanup.push(() => operators.stop());
    await operators.firstPass;
    controllers = await startFluxControllers(plane.kubeconfig, dir);
    cleanup.push(() => controllers!.stop());
    standin = startHelmStandin(kube, plane.kubeconfig, context, cluster, cluster.name);
    cleanup.push(() => standin!.stop());
    const fluxStarted = Date.now();
    const [source, root] = syncObjects(cluster, served);
    // The root Kustomization starts once its source has an artifact: no "artifact not found" retry to count.
    await applyAll(kube, [source!]);
    await waitForReady(kube, source!, ctx.timeoutMs);
    await applyAll(kube, [root!]);
    log.action(`Flux reconciles ${cluster.gitops.entry} (source-controller, kustomize-controller; ${STANDIN})`);
    live = await watchKustomizations(kube, fluxStarted, {
      timeoutMs: ctx.timeoutMs,
      settleMs: 20_000,
      busy: () => standin!.inFlight() > 0,
      progress: createProgress(process.stderr, { prefix: `[${cluster.name}] `, timeoutMs: ctx.timeoutMs }),
    });
    const gone = controllers.exited();
    if (gone) throw new BootstrapError({ subject: 'rehearsal', problem: gone, fix: 'read the controller log named above' });
    const counts = await customObjectCounts(kube, objects);
    const comparison = compareWithAudit(prediction, live.verdicts);
    const timings = { planeSeconds: (planeReady - started) / 1000, bootstrapSeconds: (bootstrapped - planeReady) / 1000, fluxSeconds: live.seconds };
    const releasesFailed = [...new Map(standin.events.map((e) => [e.release, e])).values()].filter((e) => !e.ready && !e.notRehearsed);
    const clean = live.ended === 'all-ready' && live.verdicts.every((v) => v.outcome === 'ready') && comparison.every((c) => c.agreed || c.accepted) && releasesFailed.length === 0;
    return {
      clean,
      json: { cluster: cluster.name, ended: live.ended, verdicts: live.verdicts, comparison, customObjects: counts, helmReleases: standin.events, simulatedOperators: registered, listeners: [...controllers.listeners, served.url.replace(/^oci:\/\/|\/tree$/g, '')], timings, simulated: SIMULATED },
      text: formatLive(live, comparison, counts, timings, standin.events),
      markdown: {
        summary: `${live.verdicts.filter((v) => v.outcome === 'ready').length} of ${live.verdicts.length} Kustomizations Ready under Flux (${live.ended}), ${comparison.filter((c) => !c.agreed && !c.accepted).length} difference(s) from the audit`,
        findings: [
          ...live.verdicts.filter((v) => v.outcome !== 'ready').map((v) => `**${v.outcome}** ${code(v.kustomization)}: ${md((v.firstFailure ?? v.message).split('\n')[0]!)}`),
          ...comparison.filter((c) => !c.agreed && !c.accepted).map((c) => `**differs from the audit** ${code(c.kustomization)}: audit ${md(c.audit)}; Flux ${md(c.flux.split('\n')[0]!)}`),
          ...releasesFailed.map((e) => `**HelmRelease failed** ${code(e.release)}: ${md(e.message)}`),
        ],
      },
    };
  } finally {
    // Counted as a write: on Ctrl-C the cleanup finishes (kwokctl's components are daemons that
    // would outlive us); a second signal, or SIGKILL, leaves them to the next rehearsal's sweep.
    await duringWrite(async () => {
      for (const step of cleanup.reverse()) await step().catch((error: unknown) => log.warning(`cleanup: ${error instanceof Error ? error.message : String(error)}`));
      await rm(dir, { recursive: true, force: true });
    });
  }
}

/** What the rehearsal does not run for real, said in every report. */
const SIMULATED = [
  `HelmReleases: ${STANDIN} (real helm, chart through the registry mirror; helm-controller is not served by the module proxy)`,
  'pods: kwok marks them Running; no container runs',
  'admission webhooks: answered "allowed" at their Service ClusterIP by the sandbox responder (no webhook server runs)',
  'operators that register CRDs at run time (cilium-operator, …) do not run: once their release is deployed, the kinds the tree uses are registered with a schema that accepts anything (labelled rehearsal.cluster-bootstrap.io/simulated-operator)',
  "Flux's own CRDs come from the controllers' modules (flux-operator would install them from the FluxInstance), and the FluxInstance's sync is created by the rehearsal",
];

function formatLive(live: LiveResult, comparison: Comparison[], counts: Record<string, number>, timings: Record<string, number>, releases: StandinEvent[]): string {
  const lines = [`Flux's verdict (${live.ended}, ${live.seconds.toFixed(1)}s after the controllers started):`];
  for (const v of live.verdicts) {
    const mark = v.outcome === 'ready' ? '✔' : v.outcome === 'recovered' ? '↻' : '✖';
    lines.push(`  ${mark} ${v.kustomization.padEnd(40)} ${v.seconds.toFixed(1).padStart(6)}s  ${v.outcome === 'ready' ? 'Ready' : (v.firstFailure ?? v.message).split('\n')[0]}`);
  }
  lines.push('', `HelmReleases (${STANDIN}):`);
  const last = new Map(releases.map((e) => [e.release, e]));
  for (const e of last.values()) lines.push(`  ${e.ready ? '✔' : e.notRehearsed ? '○' : '✖'} ${e.release}: ${e.message}`);
  lines.push('', 'audit vs Flux:');
  for (const c of comparison) lines.push(`  ${c.agreed ? 'agreed ' : c.accepted ? 'accepted' : 'DIFFERS'} ${c.kustomization}: audit ${c.audit}; Flux ${c.flux.split('\n')[0]}${c.accepted ? ` (${c.accepted})` : ''}`);
  lines.push('', `custom objects created: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  lines.push(`time: plane ${timings['planeSeconds']!.toFixed(1)}s, bootstrap ${timings['bootstrapSeconds']!.toFixed(1)}s, Flux ${timings['fluxSeconds']!.toFixed(1)}s`);
  lines.push('', 'simulated, not real:', ...SIMULATED.map((s) => `  - ${s}`));
  return lines.join('\n');
}

export const target = reportTarget('rehearse', rehearseLive);

if (import.meta.main) await target.cli();
