// crds: plan, guard against breaking changes, server-side apply what changed, then wait until
// every CRD of the bundle is Established, NamesAccepted and served by discovery.
// Unchanged CRDs are reported up to date and not written at all.
import pLimit from 'p-limit';
import { checkFresh, loadBundle } from './lib/bundle-files.ts';
import { breakingChangeFix, formatBreakingChange } from './lib/crd-compat.ts';
import { formatPlan, planCrds } from './lib/crd-plan.ts';
import { takeOwnership } from './lib/crd-ownership.ts';
import { checkUpgradeObjects, formatUpgradeCheck } from './lib/upgrade-objects.ts';
import { crdServingStates } from './lib/crd-status.ts';
import { BootstrapError } from './lib/errors.ts';
import { interruptExitCode } from './lib/interrupt.ts';
import { applyCrd, listCrds, watchCrds, type Kube } from './lib/kube.ts';
import { STORED_HASH_ANNOTATION, storedSpecHash, type Crd } from './lib/crd-bundle.ts';
import { runWriteQueue } from './lib/write-queue.ts';
import { runPhase, type TaskContext } from './lib/task.ts';
import { waitUntilReady } from './lib/wait.ts';

/** The CRD with the hash of the spec the API server will store, for the next plan to check. */
async function withStoredHash(kube: Kube, crd: Crd, known: string | undefined): Promise<Crd> {
  // Creates and updates were dry-run already (dryRunCreates, the plan); only a breaking change
  // applied with --allow-breaking needs its own dry-run here.
  const hash = known ?? storedSpecHash((await applyCrd(kube, crd, { dryRun: true })).spec);
  crd.metadata.annotations = { ...crd.metadata.annotations, [STORED_HASH_ANNOTATION]: hash };
  return crd;
}

/**
 * Server-side dry-runs of every CRD to create; all failures are reported together, nothing is
 * written. Returns the hash of the spec each would be stored with.
 */
async function dryRunCreates(kube: Kube, crds: Crd[], cluster: string): Promise<Map<string, string>> {
  const limit = pLimit(4);
  const stored = new Map<string, string>();
  const failures = (
    await Promise.all(
      crds.map((crd) =>
        limit(async () => {
          try {
            stored.set(crd.metadata.name, storedSpecHash((await applyCrd(kube, crd, { dryRun: true })).spec));
            return undefined;
          } catch (error) {
            return error instanceof Error ? error.message.split('\n')[0] : String(error);
          }
        }),
      ),
    )
  ).filter((f): f is string => f !== undefined);
  if (failures.length > 0) {
    throw new BootstrapError({
      subject: `CRD phase of ${cluster}`,
      problem: `${failures.length} CRD(s) to create fail the API server's dry-run; nothing was applied:\n${failures.map((f) => `    ${f}`).join('\n')}`,
      fix: 'fix the chart or values that render them (helmfile.d/00-crds), render again and rerun',
    });
  }
  return stored;
}

export async function applyCrds({ cluster, log, kube, options, timeoutMs }: TaskContext): Promise<void> {
  const bundle = await loadBundle(cluster.name);
  await checkFresh(bundle, cluster.name);
  const client = kube();
  const live = await listCrds(client);
  const plan = await planCrds(client, bundle, cluster.crdRules, live);
  if (options.dryRun) {
    process.stdout.write(`${formatPlan(plan)}\n`);
    return;
  }

  const breaking = plan.entries.flatMap((e) => e.breaking);
  if (breaking.length > 0 && !options.allowBreaking) {
    throw new BootstrapError({
      subject: `CRD phase of ${cluster.name}`,
      problem: `refusing ${breaking.length} breaking change(s); nothing was applied:\n${breaking.map((b) => `    ${formatBreakingChange(b)}`).join('\n')}`,
      fix: breakingChangeFix,
    });
  }
  for (const change of breaking) log.warning(`applying anyway (--allow-breaking): ${formatBreakingChange(change)}`);
  if (options.checkObjects) {
    const check = await checkUpgradeObjects(client, cluster, bundle, timeoutMs, plan);
    if (check.rejected.length > 0) {
      throw new BootstrapError({
        subject: `CRD phase of ${cluster.name}`,
        problem: `kube-apiserver would reject ${check.rejected.length} existing object(s) under the new CRDs; nothing was applied:\n${formatUpgradeCheck(check).split('\n').map((l) => `    ${l}`).join('\n')}`,
        fix: 'fix the objects (or pin the previous chart version) before the upgrade; nx run <cluster>:upgrade-check shows the same report',
      });
    }
    log.success(formatUpgradeCheck(check));
  }
  for (const name of plan.orphaned) log.warning(`${name} is no longer in the bundle: left in place, never deleted`);

  const byName = new Map(bundle.crds.map((crd) => [crd.metadata.name, crd]));
  // Largest first: the API server takes longest over the largest CRDs (validation, storage, its
  // OpenAPI model), so they start while the small ones fill the other write slots.
  const changes = plan.entries.filter((e) => e.action !== 'unchanged').sort((a, b) => b.bytes - a.bytes);
  for (const entry of plan.entries.filter((e) => e.action === 'unchanged')) log.info(`CRD ${entry.name} up to date`);
  // Updates were dry-run by the plan; creates are dry-run here: every write is known to pass
  // before the first one is made, so an invalid CRD leaves the cluster as it was.
  const created = await dryRunCreates(client, changes.filter((e) => e.action === 'create').map((e) => byName.get(e.name)!), cluster.name);

  const result = await runWriteQueue(changes, async (entry) => {
    await applyCrd(client, await withStoredHash(client, byName.get(entry.name)!, entry.storedSha256 ?? created.get(entry.name)));
    log.success(`CRD ${entry.name} ${entry.action === 'create' ? 'created' : 'updated'}`);
  });
  if (result.failure || result.interrupted) {
    const cause = result.failure ? (result.failure.error instanceof Error ? result.failure.error.message : String(result.failure.error)) : `${result.interrupted} received`;
    throw new BootstrapError({
      subject: `CRD phase of ${cluster.name}`,
      problem:
        `stopped after ${result.done.length} of ${changes.length} writes: ${cause}\n` +
        `    applied: ${result.done.map((e) => e.name).join(', ') || 'none'}\n` +
        `    not applied: ${result.notDone.map((e) => e.name).join(', ')}`,
      fix: `every CRD applied is complete (each write is atomic); fix the cause above, then rerun nx run ${cluster.name}:crds to apply the rest`,
      exitCode: result.interrupted ? interruptExitCode(result.interrupted) : undefined,
    });
  }
  log.success(`CRDs: ${changes.length} applied, ${plan.entries.length - changes.length} up to date`);

  log.waiting(`waiting for ${bundle.crds.length} CRDs to be Established and served`);
  // Nothing written: the plan's list is still the cluster's state, and the first check uses it.
  // After writes, a watch keeps the conditions current: a poll would list every CRD again (4 MB
  // for 62 CRDs, four times a second), work taken from the API server establishing them.
  let unchangedList = changes.length === 0 ? live : undefined;
  const watch = changes.length > 0 ? await watchCrds(client) : undefined;
  await waitUntilReady(
    [...byName.keys()],
    (pending) => {
      const current = unchangedList ?? (watch && !watch.ended() ? watch.live : undefined);
      unchangedList = undefined;
      return crdServingStates(client, pending.map((name) => byName.get(name)!), current);
    },
    {
      timeoutMs,
      what: `CRDs in ${client.context} to be Established and served`,
      fix: `kubectl --context ${client.context} get crd <name> -o yaml shows the conditions; fix the CRD and rerun nx run ${cluster.name}:crds`,
    },
  ).finally(() => watch?.stop());
  log.success(`all ${bundle.crds.length} CRDs Established, NamesAccepted and served`);

  // Only CRDs the plan saw with other managers: a rerun proven unchanged by hash lists nothing more.
  const shared = plan.entries.filter((e) => e.foreignManagers?.length).map((e) => e.name);
  const taken = shared.length ? await takeOwnership(client, shared) : new Map<string, string[]>();
  for (const [manager, names] of taken) {
    log.info(`took ownership of the fields ${manager} had on ${names.length} CRD(s) (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): later runs prove them unchanged by hash, without a dry-run`);
  }
}

if (import.meta.main) await runPhase('crds', applyCrds, { writes: true, options: ['dryRun', 'allowBreaking', 'checkObjects'] });
