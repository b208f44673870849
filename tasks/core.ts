// core: install the core releases (helmfile.d/01-core) with every chart's CRD installation off,
// syncing only the releases whose chart or rendered manifests differ from what is deployed.
// Before a sync: every CRD a release would delete is kept (helm.sh/resource-policy: keep), every
// other object it would delete is shown, and the objects of every CRD are counted; after the
// sync they are counted again, and a drop stops the run naming the kind.
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { helmfileInputsHash } from './lib/tools/helmfile-inputs.ts';
import { provenByRecord, readCoreRecord, recordOf, writeCoreRecord } from './lib/core/core-record.ts';
import { absentText, incompleteReleases, releaseObjectsOf, type ReleaseGap } from './lib/core/release-presence.ts';
import type { Crd } from './lib/model/crd-bundle.ts';
import { planCore } from './lib/core/core-plan.ts';
import { keepCrds, leavingCrds, type LeavingCrd } from './lib/core/crd-keep.ts';
import { listCrds } from './lib/cluster/kube.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { formatDiagnosis, likelyCause, type WorkloadDiagnosis } from './lib/cluster/diagnose.ts';
import { syncReleases } from './lib/tools/helmfile.ts';
import { deployedReleases, type DeployedRelease } from './lib/tools/helm.ts';
import { createLogger } from './lib/runtime/log.ts';
import { createProgress } from './lib/runtime/progress.ts';
import { progressText, releaseStatus, type ReleaseRef } from './lib/core/release-status.ts';
import { isPending, pendingError, planRecovery, recover } from './lib/core/helm-recovery.ts';
import { describe, type Kube } from './lib/cluster/kube.ts';
import { countDrops, countObjects, formatDrop, kindRefOf } from './lib/core/object-count.ts';
import type { ReleasePlan } from './lib/core/release-plan.ts';
import { phaseTarget, type TaskContext } from './lib/runner/task.ts';
import { paths } from './lib/runtime/workspace.ts';
import { startPoller } from './lib/runtime/poller.ts';

/** Keeps every live CRD that a sync would delete, and says so per release. */
async function protectLeavingCrds(kube: Kube, leaving: LeavingCrd[], { log }: TaskContext): Promise<void> {
  await keepCrds(kube, leaving.filter((c) => !c.kept).map((c) => c.name));
  for (const release of new Set(leaving.map((c) => c.release))) {
    const owned = leaving.filter((c) => c.release === release && c.inBundle);
    if (owned.length) log.success(`kept ${owned.length} CRDs of ${release} from deletion by Helm: the crds phase owns them`);
  }
  for (const crd of leaving.filter((c) => !c.inBundle)) {
    log.warning(
      `CRD ${crd.name} leaves release ${crd.namespace}/${crd.release} and is in no bundle: kept (helm.sh/resource-policy: keep), never deleted; delete it by hand once nothing uses it`,
    );
  }
}

const WATCH_INTERVAL_MS = 2000;

/**
 * helmfile sync, while the tool watches the releases' workloads itself: live progress during
 * the wait and, if the sync fails, what the cluster says about why (pods, Warning events) with
 * the most likely cause and its fix.
 */
async function syncWatched(ctx: TaskContext, releases: ReleaseRef[]): Promise<void> {
  const { cluster, context, options } = ctx;
  const kube = ctx.kube();
  // Without --timeout, helm waits as long as helmfile.d's helmDefaults.timeout says.
  const progress = createProgress(process.stderr, { prefix: `[${cluster.name}] `, ...(options.timeout ? { timeoutMs: options.timeout * 1000 } : {}) });
  const started = Date.now();
  // Event times have whole seconds.
  const since = new Date(started - 1000);
  let last = new Map<string, WorkloadDiagnosis[]>();
  const watcher = startPoller(async () => {
    try {
      last = await releaseStatus(kube, releases, since);
      progress.update(releases.map((r) => ({ key: r.name, text: progressText(last.get(r.name)) })), Date.now() - started);
    } catch {
      // Progress is best effort: the sync's own result decides.
    }
  }, WATCH_INTERVAL_MS);
  const log = createLogger({ write: (line: string) => progress.print(line.trimEnd()) }, `[${cluster.name}] `);
  try {
    await syncReleases({ cluster, context }, paths.coreHelmfile, releases.map((r) => r.name), log, options.timeout);
  } catch (error) {
    if (!(error instanceof BootstrapError)) throw error;
    const status = await releaseStatus(kube, releases, since).catch(() => last);
    const diagnoses = [...status.values()].flat().filter((d) => !d.state.ready);
    const cause = likelyCause(diagnoses);
    if (!cause) throw error;
    const namespaces = [...new Set(releases.map((r) => r.namespace))];
    throw new BootstrapError({
      subject: error.subject,
      problem: `${error.problem}\n  not ready:\n${formatDiagnosis(diagnoses, cause)}\n  most likely: ${cause.reason}: ${cause.message}`,
      fix: `${cause.fix}; then rerun nx run ${cluster.name}:core --exclude-task-dependencies (all Warning events: kubectl --context ${context} get events -n ${namespaces.join(',')} --field-selector type=Warning)`,
      cause: error,
    });
  } finally {
    await watcher.stop();
    progress.done();
  }
}

/** Releases an interrupted helm left pending: refused with the recovery command, or recovered with --recover. */
async function recoverPending(ctx: TaskContext, plan: ReleasePlan[]): Promise<ReleasePlan[]> {
  const target = { cluster: ctx.cluster, context: ctx.context };
  const pending = plan.flatMap((p) => (p.installed && isPending(p.installed) ? [p.installed] : []));
  if (pending.length === 0) return plan;
  const recoveries = await Promise.all(pending.map((release) => planRecovery(target, release)));
  if (!ctx.options.recover) throw pendingError(recoveries, ctx.cluster.name);
  for (const recovery of recoveries) {
    ctx.log.action(`recovering ${recovery.release.namespace}/${recovery.release.name} (${recovery.release.status}): ${recovery.command.join(' ')}`);
    await recover(target, recovery);
  }
  return planCore(target);
}

const releaseKey = (r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`;

/** Records what is deployed now (`deployed`: helm list's answer after the last helm action), for the next run's shortcut. */
async function recordSync(ctx: TaskContext, inputsSha256: string, plan: ReleasePlan[], deployed: DeployedRelease[]): Promise<void> {
  const objects = plan.map((p) => releaseObjectsOf(p.release, p.rendered));
  const record = recordOf(inputsSha256, plan.map((p) => p.release), deployed, objects);
  if (record) await writeCoreRecord(ctx.kube(), record);
}

/** An up-to-date release with objects of its manifest gone from the cluster is upgraded: helm re-creates them. */
async function withIncomplete(kube: Kube, plan: ReleasePlan[]): Promise<{ plan: ReleasePlan[]; gaps: ReleaseGap[] }> {
  const current = plan.filter((p) => p.action === 'up to date');
  const gaps = await incompleteReleases(kube, current.map((p) => releaseObjectsOf(p.release, p.deployed)));
  const byRelease = new Map(gaps.map((g) => [releaseKey(g), g]));
  return {
    plan: plan.map((p) => {
      const gap = p.action === 'up to date' ? byRelease.get(releaseKey(p.release)) : undefined;
      return gap ? { ...p, action: 'upgrade' as const, reason: `missing from the cluster: ${absentText(gap.absent)}` } : p;
    }),
    gaps,
  };
}

/** After the sync, every object that was missing must be back; says what was put back, per release. */
async function confirmRepaired(ctx: TaskContext, gaps: ReleaseGap[]): Promise<void> {
  if (gaps.length === 0) return;
  const still = await incompleteReleases(ctx.kube(), gaps.map((g) => ({ namespace: g.namespace, name: g.name, objects: g.absent.map((a) => a.ref) })));
  if (still.length > 0) {
    throw new BootstrapError({
      subject: still.map((g) => `helm release ${releaseKey(g)}`).join(', '),
      problem: `still missing after the sync: ${still.map((g) => `${releaseKey(g)}: ${absentText(g.absent)}`).join('; ')}`,
      fix: `a kind that is not served needs its CRD (nx run ${ctx.cluster.name}:crds); otherwise look for what deletes them (kubectl get events -A), then rerun nx run ${ctx.cluster.name}:core --exclude-task-dependencies`,
    });
  }
  for (const gap of gaps) ctx.log.success(`repaired release ${releaseKey(gap)}: put back ${absentText(gap.absent)}`);
}

export async function installCore(ctx: TaskContext): Promise<void> {
  const { cluster, context, log, kube } = ctx;
  const client = kube();
  const target = { cluster, context };
  const [inputsSha256, deployed, record] = await Promise.all([helmfileInputsHash(cluster, paths.helmfileDir, [paths.coreHelmfile]), deployedReleases(target), readCoreRecord(client)]);
  const proof = provenByRecord(record, inputsSha256, deployed);
  const incomplete = proof.proven ? await incompleteReleases(client, record!.objects) : [];
  if (proof.proven && incomplete.length === 0) {
    const count = record!.objects.reduce((sum, r) => sum + r.objects.length, 0);
    log.success(`all ${record!.releases.length} core releases are up to date (${proof.reason}, all ${count} objects of their manifests present)`);
    return;
  }
  log.info(`planning every release: ${incomplete.length ? `missing from the cluster: ${incomplete.map((g) => `${releaseKey(g)}: ${absentText(g.absent)}`).join('; ')}` : proof.reason}`);
  const bundle = await loadBundle(cluster.name);
  const { plan, gaps } = await withIncomplete(client, await recoverPending(ctx, await planCore(target, deployed)));
  for (const { release, action, reason } of plan) {
    (action === 'up to date' ? log.info : log.action)(`${release.namespace}/${release.name}: ${action} (${reason})`);
  }
  const toSync = plan.filter((p) => p.action !== 'up to date');
  if (toSync.length === 0) {
    // Nothing synced: unless a pending release was just recovered, helm list's first answer still holds.
    const recovered = deployed.some(isPending);
    await recordSync(ctx, inputsSha256, plan, recovered ? await deployedReleases(target) : deployed);
    log.success(`all ${plan.length} core releases are up to date`);
    return;
  }

  const live = await listCrds(client);
  const leaving = leavingCrds(toSync, live, new Set(bundle.crds.map((c) => c.metadata.name)));
  await protectLeavingCrds(client, leaving, ctx);
  for (const { release, removed } of toSync) {
    for (const object of removed.filter((o) => o.kind !== 'CustomResourceDefinition')) {
      log.warning(`helm will delete ${describe(object)}: release ${release.name} no longer renders it`);
    }
  }
  // The bundle's kinds, and those of CRDs leaving a release that no bundle has.
  const unbundled = leaving.filter((c) => !c.inBundle).map((c) => live.get(c.name)!);
  const kinds = [...bundle.crds, ...unbundled].map((crd) => kindRefOf(crd as Crd));
  const before = await countObjects(client, kinds);

  const names = toSync.map((p) => p.release.name);
  log.action(`helmfile sync of ${names.join(', ')} (CRDs skipped: the crds phase owns them)`);
  await syncWatched(ctx, toSync.map((p) => ({ name: p.release.name, namespace: p.release.namespace })));

  const drops = countDrops(kinds, before, await countObjects(client, kinds));
  if (drops.length > 0) {
    throw new BootstrapError({
      subject: `custom resources in ${client.context}`,
      problem: `objects disappeared during the core sync of ${names.join(', ')}:\n${drops.map((d) => `    ${formatDrop(d)}`).join('\n')}`,
      fix: `the run stopped before verify. Find what deleted them (helm history <release> -n <namespace>, kubectl get events -A), restore them from your GitOps repository or a backup, then rerun nx run ${cluster.name}:core --exclude-task-dependencies`,
    });
  }
  const total = [...before.values()].reduce<number>((sum, n) => sum + (n ?? 0), 0);
  log.success(`custom resources counted before and after the sync: ${total} objects of ${kinds.length} CRDs, none lost`);
  await confirmRepaired(ctx, gaps);
  await recordSync(ctx, inputsSha256, plan, await deployedReleases(target));
  log.success(`core releases synced: ${names.join(', ')}`);
}

export const target = phaseTarget('core', installCore);

if (import.meta.main) await target.cli();
