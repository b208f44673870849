// crds: plan, guard against breaking changes, server-side apply what changed, then wait until
// every CRD of the bundle is Established, NamesAccepted and served by discovery.
// Unchanged CRDs are reported up to date and not written at all.
import pLimit from 'p-limit';
import { checkFresh, loadBundle } from './lib/bundle-files.ts';
import { breakingChangeFix, formatBreakingChange } from './lib/crd-compat.ts';
import { formatPlan, planCrds } from './lib/crd-plan.ts';
import { crdServingStates } from './lib/crd-status.ts';
import { BootstrapError } from './lib/errors.ts';
import { guardIdentity } from './lib/identity.ts';
import { serverSideApply } from './lib/kube.ts';
import { toClientObject } from './lib/manifests.ts';
import { runPhase, type TaskContext } from './lib/task.ts';
import { waitUntilReady } from './lib/wait.ts';

export async function applyCrds({ cluster, log, kube, options }: TaskContext): Promise<void> {
  const bundle = await loadBundle(cluster.name);
  await checkFresh(bundle, cluster.name);
  const client = kube();
  await guardIdentity(client, cluster);
  const plan = await planCrds(client, bundle);
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
  for (const name of plan.orphaned) log.warning(`${name} is no longer in the bundle: left in place, never deleted`);

  const byName = new Map(bundle.crds.map((crd) => [crd.metadata.name, crd]));
  const changes = plan.entries.filter((e) => e.action !== 'unchanged');
  for (const entry of plan.entries.filter((e) => e.action === 'unchanged')) log.info(`CRD ${entry.name} up to date`);
  const limit = pLimit(4);
  await Promise.all(
    changes.map((entry) =>
      limit(async () => {
        await serverSideApply(client, toClientObject(byName.get(entry.name)!));
        log.success(`CRD ${entry.name} ${entry.action === 'create' ? 'created' : 'updated'}`);
      }),
    ),
  );
  log.success(`CRDs: ${changes.length} applied, ${plan.entries.length - changes.length} up to date`);

  log.waiting(`waiting for ${bundle.crds.length} CRDs to be Established and served`);
  await waitUntilReady(
    [...byName.keys()],
    (pending) => crdServingStates(client, pending.map((name) => byName.get(name)!)),
    {
      timeoutMs: options.timeout * 1000,
      what: `CRDs in ${client.context} to be Established and served`,
      fix: `kubectl --context ${client.context} get crd <name> -o yaml shows the conditions; fix the CRD and rerun nx run ${cluster.name}:crds`,
    },
  );
  log.success(`all ${bundle.crds.length} CRDs Established, NamesAccepted and served`);
}

if (import.meta.main) await runPhase('crds', applyCrds);
