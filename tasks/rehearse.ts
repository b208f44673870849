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
import { builtinGroups } from './lib/gitops/builtin-kinds.ts';
import { servedKinds, simulatedKinds, startOperatorStandin } from './lib/rehearsal/operator-standin.ts';
import { startFluxControllers, REHEARSAL_SOURCE_LABEL, type FluxControllers } from './lib/rehearsal/flux-controllers.ts';
import { startChartSourceStandin, SOURCE_STANDIN } from './lib/rehearsal/chart-source-standin.ts';
import { startStatusStandin, STATUS_SIMULATIONS } from './lib/rehearsal/status-standin.ts';
import { startHelmStandin, STANDIN, type HelmStandin, type StandinEvent } from './lib/rehearsal/helm-standin.ts';
import { coverageLine, coverageOf, lastEvents, type Coverage } from './lib/rehearsal/rehearsal-coverage.ts';
import { compareWithAudit, watchKustomizations, type Comparison, type LiveResult } from './lib/rehearsal/live-rehearsal.ts';
import { PLACEHOLDER, serveTree } from './lib/rehearsal/tree-artifact.ts';
import { serveGitRepositories } from './lib/rehearsal/tree-git.ts';
import { foreignGitSources, pointAtServedCopies, unservedSources } from './lib/rehearsal/foreign-sources.ts';
import { checkSyncAgrees, declaredSync, type FluxSync } from './lib/rehearsal/flux-sync.ts';
import { controllerFlags, syncObjects, withOperatorPatches } from './lib/rehearsal/flux-operator-builds.ts';
import { renderState } from './lib/bundle/render.ts';
import { formatCapabilityProof, proveCapabilities, type CapabilityProof } from './lib/rehearsal/capability-proof.ts';
import { formatHandoverProof, handoverDiffers, proveHandover, releaseStates, type HandoverProof } from './lib/rehearsal/handover-proof.ts';
import type { FluxTree } from './lib/gitops/flux-tree.ts';
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
import { builtTree, judgedTreeRoot, withTreeRoot } from './lib/gitops/cluster-tree.ts';
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
 * every secret. `ctx.cluster` is already the judged tree's (withTreeRoot): a release whose values
 * are the tree's own reads them from the tree rehearsed.
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
  // As flux-operator installs them: its patch lets Alerts and Receivers name FluxInstances.
  return withOperatorPatches(texts.flatMap((t) => loadMachineWritten(t) as Crd[]).filter((o) => o?.kind === 'CustomResourceDefinition'));
}

/** The FluxInstance core would install, from core's own render (offline), checked against the tree. */
async function fluxSyncOf(ctx: TaskContext, tree: FluxTree): Promise<FluxSync> {
  const { releases, objects } = await renderState({ cluster: ctx.cluster, context: ctx.context }, paths.coreHelmfile, { includeCrds: false });
  const sync = declaredSync(objects, new Map(releases.map((r) => [r.name, r.namespace])), ctx.cluster, paths.coreHelmfile);
  checkSyncAgrees(sync, tree.kustomizations, paths.coreHelmfile);
  return sync;
}

interface ServedSources { url: string; listeners: string[]; placeholders: string[]; rewritten: string[]; stop(): Promise<void> }

/**
 * The tree served as the FluxInstance's sync kind (a git repository, or a Flux OCI artifact), and
 * beside it on the git server every GitRepository gitops.sources maps to a local checkout, the
 * tree's own GitRepository objects pointed at them (foreign-sources.ts).
 */
async function serveSources(sync: FluxSync, root: string, folders: string[], sources: Record<string, string>, clusterName: string, scratchParent: string): Promise<ServedSources> {
  const foreign = foreignGitSources(sources, workspaceRoot);
  const repositories = [
    ...(sync.kind === 'GitRepository' ? [{ name: sync.name, root, folders, ref: sync.ref }] : []),
    ...foreign.map((f) => ({ name: f.repository, root: f.checkout, folders: ['.'] })),
  ];
  const git = repositories.length ? await serveGitRepositories(repositories, clusterName, (urls) => pointAtServedCopies(foreign, urls), scratchParent) : undefined;
  if (sync.kind === 'GitRepository') return { url: git!.urls.get(sync.name)!, listeners: [git!.listener], placeholders: git!.placeholders, rewritten: git!.rewritten, stop: git!.stop };
  const oci = await serveTree(root, folders, clusterName, git && pointAtServedCopies(foreign, git.urls), scratchParent).catch(async (error: unknown) => {
    await git?.stop();
    throw error;
  });
  return {
    url: oci.url,
    listeners: [oci.url.replace(/^oci:\/\/|\/tree$/g, ''), ...(git ? [git.listener] : [])],
    placeholders: [...oci.placeholders, ...(git?.placeholders ?? [])],
    rewritten: [...oci.rewritten, ...(git?.rewritten ?? [])],
    stop: async () => {
      await oci.stop();
      await git?.stop();
    },
  };
}

type Obj = KubernetesObject & { spec?: Record<string, any> };

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

export async function rehearseLive(taskCtx: TaskContext): Promise<ReportResult> {
  const { log } = taskCtx;
  if (!taskCtx.cluster.gitops) {
    throw new BootstrapError({ subject: `${taskCtx.cluster.file}: gitops`, problem: 'is not set: there is no GitOps tree to rehearse', fix: 'add gitops.entry: the path the FluxInstance syncs' });
  }
  const started = Date.now();
  // One root for both halves: the audit's prediction and the tree Flux is served (and helmfile reads).
  const gitopsRoot = judgedTreeRoot('rehearse', taskCtx.cluster.name, taskCtx.options.gitopsRoot);
  const ctx: TaskContext = { ...taskCtx, cluster: withTreeRoot(taskCtx.cluster, gitopsRoot) };
  const { cluster } = ctx;
  const gitops = cluster.gitops!;
  const tree = await builtTree(cluster, gitopsRoot);
  // Before any cluster: what the FluxInstance syncs, and whether the tree names that source.
  const sync = await fluxSyncOf(ctx, tree);
  // The prediction's renders run while the throwaway cluster comes up (it is read only to compare,
  // once Flux is done): on the generated tree that hid 25 s of the plane's time.
  const predicted = predict(ctx, gitopsRoot, tree);
  let predictionFailed: unknown;
  predicted.catch((error: unknown) => (predictionFailed = error)); // awaited below; thrown as soon as it is known
  for (const orphan of await sweepOrphanedRehearsals(cluster.name)) log.warning(`removed the cluster of a rehearsal that was killed: ${orphan}`);
  const { dir, plane } = await createRehearsalDir(cluster.name);
  const cleanup: Array<() => Promise<void>> = [];
  let live: LiveResult | undefined;
  let controllers: FluxControllers | undefined;
  let standin: HelmStandin | undefined;
  const registered: Array<{ operator: string; release: string; kinds: string[] }> = [];
  const simulatedStatuses: string[] = [];
  try {
    const port = await freePort();
    log.action(`starting a throwaway control plane on https://127.0.0.1:${port} (kwok, loopback only)`);
    cleanup.push(() => deleteKwokCluster(plane, `remove ${plane.workdir} by hand`));
    const kube = await createKwokCluster({ ...plane, apiServerPort: port, nodes: 2, declaredBy: cluster }, `read the logs under ${plane.workdir}`, log);
    const context = `kwok-${plane.name}`;
    // A kwok pod runs no webhook server: the responder answers at each webhook Service's ClusterIP, as in the sandbox.
    const webhooks = keepWebhooksAnswered(kube, path.join(dir, 'webhooks.log'));
    cleanup.push(() => webhooks.stop());
    const phaseCtx = rehearsalContext(ctx, kube, { kubeconfig: plane.kubeconfig, context, server: `https://127.0.0.1:${port}` });
    const planeReady = Date.now();
    // A prediction that failed fast (no CRD bundle rendered, say) ends the rehearsal before the bootstrap.
    if (predictionFailed) throw predictionFailed;
    log.action(`${writingChain().join(', ')} (secrets as placeholders), as the bootstrap runs them`);
    for (const phase of writingChain()) await BOOTSTRAP_WRITES[phase]!(phaseCtx);
    const releaseTarget = { cluster: phaseCtx.cluster, context };
    const coreReleases = await releaseStates(releaseTarget);
    const bootstrapped = Date.now();

    const crds = await fluxCrds();
    await applyAll(kube, crds);
    await waitUntilServed(kube, crds, undefined, { timeoutMs: ctx.timeoutMs, what: "Flux's CRDs to be served", fix: 'read the throwaway API server log' });
    const objects = tree.kustomizations.flatMap((k) => k.objects.map((o) => o.object as Obj));
    const placeholders = keepDecryptionPlaceholders(kube, decryptionSecretsOf(objects));
    cleanup.push(() => placeholders.stop());
    const served = await serveSources(sync, path.resolve(workspaceRoot, gitops.root), gitops.folders ?? [gitops.entry.split(/[\\/]/)[0]!], gitops.sources, cluster.name, dir);
    cleanup.push(() => served.stop());
    for (const placeholder of served.placeholders) log.info(`SOPS document replaced by a placeholder: ${placeholder}`);
    for (const repository of served.rewritten) log.info(`served from its checkout in gitops.sources, on loopback: ${repository}`);
    for (const source of unservedSources(gitops.sources)) log.warning(`gitops.sources ${source}: not served in a rehearsal (only GitRepository checkouts are); its Kustomizations cannot come up here`);
    const simulated = simulatedKinds(operatorsFor(gitops.operators), objects, await servedKinds(kube));
    const operators = startOperatorStandin(kube, simulated, (operator, kinds) => {
      registered.push({ operator: operator.name, release: operator.release, kinds });
      log.info(`simulated ${operator.name}: registered ${kinds.join(', ')} once release ${operator.release} was deployed`);
    });
    cleanup.push(() => operators.stop());
    await operators.firstPass;
    // The FluxInstance's kustomize.patches that add controller flags (feature gates), as flux-operator applies them.
    const flags = controllerFlags(sync.patches);
    for (const [controller, args] of Object.entries(flags.args)) log.info(`${controller} runs with ${args.join(' ')} (FluxInstance ${sync.instance} kustomize.patches)`);
    for (const patch of flags.notReproduced) log.warning(`FluxInstance ${sync.instance} ${patch}: not reproduced in the rehearsal (only flags added to the controllers' args are)`);
    controllers = await startFluxControllers(plane.kubeconfig, dir, flags.args);
    cleanup.push(() => controllers!.stop());
    standin = startHelmStandin(kube, plane.kubeconfig, context, cluster, cluster.name);
    cleanup.push(() => standin!.stop());
    const chartSources = startChartSourceStandin(kube, plane.kubeconfig, cluster, cluster.name);
    cleanup.push(() => chartSources.stop());
    const statuses = startStatusStandin(kube, (object, simulation) => {
      simulatedStatuses.push(object);
      log.info(`simulated ${simulation.controller}: ${object} Ready (${simulation.controller} does not run in the rehearsal)`);
    });
    cleanup.push(() => statuses.stop());
    const fluxStarted = Date.now();
    const [source, root] = syncObjects(sync, served.url, { [REHEARSAL_SOURCE_LABEL]: 'true' });
    // The root Kustomization starts once its source has an artifact: no "artifact not found" retry to count.
    await applyAll(kube, [source!]);
    await waitForReady(kube, source!, ctx.timeoutMs);
    await applyAll(kube, [root!]);
    log.action(`Flux reconciles ${sync.path} from ${sync.kind} ${sync.namespace}/${sync.name} as FluxInstance ${sync.instance} declares it (served on ${served.listeners.join(', ')}; source-controller, kustomize-controller; ${STANDIN})`);
    live = await watchKustomizations(kube, fluxStarted, {
      timeoutMs: ctx.timeoutMs,
      settleMs: 20_000,
      // Nothing settles while a stand-in still works: Kustomizations waiting on it show no change
      // meanwhile; and the helm stand-in must have looked again since the last Kustomization changed
      // (flux-instance's has no wait: Ready while its HelmRelease was not yet seen; CI and the
      // benchmark ended there, its hand-off at revision 1).
      busy: (lastChange) => standin!.busy(Math.max(lastChange, chartSources.lastOutcomeAt())) || chartSources.inFlight() > 0,
      progress: createProgress(process.stderr, { prefix: `[${cluster.name}] `, timeoutMs: ctx.timeoutMs }),
    });
    const gone = controllers.exited();
    if (gone) throw new BootstrapError({ subject: 'rehearsal', problem: gone, fix: 'read the controller log named above' });
    const rootVerdict = live.verdicts.find((v) => v.kustomization === `${sync.namespace}/${sync.name}`);
    if (rootVerdict?.outcome !== 'ready') {
      throw new BootstrapError({
        subject: `the root Kustomization ${sync.namespace}/${sync.name} (${sync.path})`,
        problem: `never applied, so nothing of the tree was rehearsed: ${rootVerdict ? (rootVerdict.firstFailure ?? rootVerdict.message).split('\n')[0] : 'Flux never reported on it'}`,
        fix: `build it as Flux does (nx run ${cluster.name}:audit names the error with its file), fix it, then rehearse again`,
      });
    }
    const counts = await customObjectCounts(kube, objects);
    const { rehearsal: prediction } = await predicted;
    const comparison = compareWithAudit(prediction, live.verdicts);
    const timings = { planeSeconds: (planeReady - started) / 1000, bootstrapSeconds: (bootstrapped - planeReady) / 1000, fluxSeconds: live.seconds };
    const outcomes = lastEvents(standin.events);
    const releasesFailed = outcomes.filter((e) => !e.ready && !e.notRehearsed);
    const coverage = coverageOf(tree.kustomizations, live.verdicts, standin.events);
    // The hand-off: what Flux did to each release core installed, beside the audit's verdict.
    const notRehearsed = new Set(outcomes.filter((e) => e.notRehearsed).map((e) => e.release));
    const handover = proveHandover(prediction.handover ?? [], coreReleases, await releaseStates(releaseTarget, new Set(coreReleases.keys())), notRehearsed);
    // Objects the audit says a chart never creates (capability-gated), looked for in the cluster.
    // A custom kind still not served has no objects (and the client cannot read one).
    const [servedNow, builtin] = await Promise.all([servedKinds(kube), builtinGroups()]);
    const capabilities = await proveCapabilities(prediction.findings, outcomes, async (o) => {
      const group = groupOf(o.apiVersion);
      if (!builtin.has(group) && !servedNow.has(`${group}/${o.kind}`)) return false;
      return !!(await readObject(kube, { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) } }));
    });
    const clean = live.ended === 'all-ready' && live.verdicts.every((v) => v.outcome === 'ready') && comparison.every((c) => c.agreed || c.accepted) && releasesFailed.length === 0 && !handover.some(handoverDiffers) && capabilities.every((c) => c.agreed || c.unjudged);
    return {
      clean,
      json: { cluster: cluster.name, coverage, ended: live.ended, verdicts: live.verdicts, comparison, customObjects: counts, helmReleases: standin.events, simulatedOperators: registered, simulatedStatuses, listeners: [...controllers.listeners, ...served.listeners], sync: { kind: sync.kind, name: sync.name, namespace: sync.namespace, path: sync.path, instance: sync.instance }, controllerFlags: flags, handover, capabilities, timings, simulated: SIMULATED },
      text: formatLive(live, comparison, counts, timings, standin.events, coverage, handover, capabilities),
      markdown: {
        summary: `${coverageLine(coverage)} (${live.ended}), ${comparison.filter((c) => !c.agreed && !c.accepted && !c.neverReached).length} difference(s) from the audit`,
        findings: [
          ...live.verdicts.filter((v) => v.outcome !== 'ready').map((v) => `**${v.outcome}** ${code(v.kustomization)}: ${md((v.firstFailure ?? v.message).split('\n')[0]!)}`),
          ...comparison.filter((c) => !c.agreed && !c.accepted && !c.neverReached).map((c) => `**differs from the audit** ${code(c.kustomization)}: audit ${md(c.audit)}; Flux ${md(c.flux.split('\n')[0]!)}`),
          ...comparison.filter((c) => c.neverReached).map((c) => `**never reached** ${code(c.kustomization)}: not judged (audit ${md(c.audit)})`),
          ...coverage.readyNotRehearsed.map((r) => `**Ready, HelmRelease not rehearsed** ${code(r.kustomization)}: ${code(r.release)} ${md(r.message)}`),
          ...releasesFailed.map((e) => `**HelmRelease failed** ${code(e.release)}: ${md(e.message)}`),
          ...capabilities.filter((c) => !c.agreed && !c.unjudged).map((c) => `**capability-gated differs from the audit** ${code(`HelmRelease ${c.helmRelease}`)}: audit ${md(c.audit)}; rehearsal ${md(c.rehearsal)}`),
          ...handover.filter(handoverDiffers).map((p) => `**hand-off differs from the audit** ${code(p.release)}: audit ${p.audit}; Flux: revision ${p.before} → ${p.after}, manifest ${p.manifestChanged ? 'changed' : 'unchanged'}`),
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
  `chart OCIRepositories: ${SOURCE_STANDIN} (Ready or Stalled as soon as applied, resolved against the registry mirror with helm; source-controller fetches only the synced tree)`,
  'pods: kwok marks them Running; no container runs',
  `status of ${STATUS_SIMULATIONS.flatMap((s) => s.kinds).join(', ')}: Ready written by the rehearsal once their controller's release is deployed (the controllers do not run; each condition says "simulated by the rehearsal")`,
  'admission webhooks: answered "allowed" at their Service ClusterIP by the sandbox responder (no webhook server runs)',
  'operators that register CRDs at run time (cilium-operator, …) do not run: once their release is deployed, the kinds the tree uses are registered with a schema that accepts anything (labelled rehearsal.cluster-bootstrap.io/simulated-operator)',
  "Flux's CRDs come from the controllers' modules, patched as flux-operator patches them (Alert and Receiver accept FluxInstance, ResourceSet, ResourceSetInputProvider); flux-operator does not run: the FluxInstance's source and root Kustomization are created as its builder creates them, the source's url pointed at the rehearsal's loopback server",
];

function formatLive(live: LiveResult, comparison: Comparison[], counts: Record<string, number>, timings: Record<string, number>, releases: StandinEvent[], coverage: Coverage, handover: HandoverProof[], capabilities: CapabilityProof[]): string {
  const lines = [`${coverageLine(coverage)}.`];
  for (const r of coverage.readyNotRehearsed) lines.push(`  ○ ${r.kustomization} is Ready, but its HelmRelease ${r.release} was not rehearsed: ${r.message}`);
  lines.push('', `Flux's verdict (${live.ended}, ${live.seconds.toFixed(1)}s after the controllers started):`);
  for (const v of live.verdicts) {
    const mark = v.outcome === 'ready' ? '✔' : v.outcome === 'recovered' ? '↻' : '✖';
    lines.push(`  ${mark} ${v.kustomization.padEnd(40)} ${v.seconds.toFixed(1).padStart(6)}s  ${v.outcome === 'ready' ? 'Ready' : (v.firstFailure ?? v.message).split('\n')[0]}`);
  }
  lines.push('', `HelmReleases (${STANDIN}):`);
  for (const e of lastEvents(releases)) lines.push(`  ${e.ready ? '✔' : e.notRehearsed ? '○' : '✖'} ${e.release}: ${e.message}`);
  lines.push('', 'audit vs Flux:');
  for (const c of comparison) lines.push(`  ${c.agreed ? 'agreed ' : c.accepted ? 'accepted' : c.neverReached ? 'unjudged' : 'DIFFERS'} ${c.kustomization}: audit ${c.audit}; Flux ${c.flux.split('\n')[0]}${c.accepted ? ` (${c.accepted})` : ''}`);
  lines.push('', 'hand-off of the releases core installed (audit vs what Flux did):', ...formatHandoverProof(handover));
  if (capabilities.length) lines.push('', 'objects gated on a kind served later (audit vs the cluster after Flux):', ...formatCapabilityProof(capabilities));
  lines.push('', `custom objects created: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  lines.push(`time: plane ${timings['planeSeconds']!.toFixed(1)}s, bootstrap ${timings['bootstrapSeconds']!.toFixed(1)}s, Flux ${timings['fluxSeconds']!.toFixed(1)}s`);
  lines.push('', 'simulated, not real:', ...SIMULATED.map((s) => `  - ${s}`));
  return lines.join('\n');
}

export const target = reportTarget('rehearse', rehearseLive);

if (import.meta.main) await target.cli();
