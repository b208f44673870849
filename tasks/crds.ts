// crds: plan, guard against breaking changes, server-side apply what changed, then wait until
// every CRD of the bundle is Established, NamesAccepted and served by discovery.
// Unchanged CRDs are reported up to date and not written at all.
import { checkFresh, loadBundle } from './lib/bundle/bundle-files.ts';
import { breakingChangeFix, formatBreakingChange } from './lib/crds/crd-compat.ts';
import { formatPlan, planCrds, sharedOwnership } from './lib/crds/crd-plan.ts';
import { checkUpgradeObjects, formatUpgradeCheck } from './lib/gitops/upgrade-objects.ts';
import { waitUntilServed } from './lib/crds/crd-status.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { interruptExitCode } from './lib/runtime/interrupt.ts';
import { listCrds } from './lib/cluster/kube.ts';
import { writeCrds } from './lib/crds/crd-writes.ts';
import { phaseTarget, type TaskContext } from './lib/runner/task.ts';

export async function applyCrds({ cluster, log, kube, options, timeoutMs }: TaskContext): Promise<void> {
  const bundle = await loadBundle(cluster.name);
  await checkFresh(bundle, cluster);
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

  for (const entry of plan.entries.filter((e) => e.action === 'unchanged')) log.info(`CRD ${entry.name} up to date`);
  const changes = plan.entries.filter((e) => e.action !== 'unchanged');
  const result = await writeCrds(client, bundle, changes, cluster.name, (entry) => log.success(`CRD ${entry.name} ${entry.action === 'create' ? 'created' : 'updated'}`));
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
  // Nothing written: the plan's list is still the cluster's state.
  await waitUntilServed(client, bundle.crds, changes.length === 0 ? live : undefined, {
    timeoutMs,
    what: `CRDs in ${client.context} to be Established and served`,
    fix: `kubectl --context ${client.context} get crd <name> -o yaml shows the conditions; fix the CRD and rerun nx run ${cluster.name}:crds`,
  });
  log.success(`all ${bundle.crds.length} CRDs Established, NamesAccepted and served`);

  // Shared, not taken over: Flux (or Helm) applying the same CRDs is the steady state of a GitOps
  // cluster, and taking their fields would only start a tug of war. Same content is proven by hash.
  for (const [manager, names] of sharedOwnership(plan)) {
    log.info(`${names.length} CRD(s) also applied by ${manager} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): shared; a rerun proves them unchanged by hash`);
  }
}

export const target = phaseTarget('crds', applyCrds);

if (import.meta.main) await target.cli();
