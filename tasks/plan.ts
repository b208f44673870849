// plan (read-only): what the crds phase would do to the live cluster, per CRD:
// create / update / unchanged / breaking, with size and source release. Nothing is written.
// Exit 0 when nothing is breaking, 1 when something is, 2 on error.
import { loadBundle } from './lib/bundle-files.ts';
import { formatPlan, planCrds, type CrdPlan } from './lib/crd-plan.ts';
import { guardIdentity } from './lib/identity.ts';
import { runReport, type TaskContext } from './lib/task.ts';

export async function plan({ cluster, kube, options }: TaskContext): Promise<CrdPlan> {
  const client = kube();
  await guardIdentity(client, cluster);
  const result = await planCrds(client, await loadBundle(cluster.name));
  process.stdout.write(options.json ? `${JSON.stringify({ cluster: cluster.name, context: client.context, ...result }, null, 2)}\n` : `${formatPlan(result)}\n`);
  return result;
}

if (import.meta.main) await runReport('plan', async (ctx) => (await plan(ctx)).entries.every((e) => e.action !== 'breaking'));
