// plan (read-only): what the crds phase would do to the live cluster, per CRD:
// create / update / unchanged / breaking, with size and source release; and, for a cluster
// bootstrapped the old way, how its releases' CRDs are adopted. Nothing is written.
// Exit 0 when nothing is breaking, 1 when something is, 2 on error.
import { formatAdoption, planAdoption, type ReleaseAdoption } from './lib/core/adoption.ts';
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { planCore } from './lib/core/core-plan.ts';
import { formatPlan, planCrds, type CrdPlan } from './lib/crds/crd-plan.ts';
import { listCrds } from './lib/cluster/kube.ts';
import { reportTarget, type ReportResult, type TaskContext } from './lib/runner/task.ts';
import { changeMarkdown } from './lib/crds/crd-compat.ts';
import { assertOnePinPerChart } from './lib/tools/chart-pins.ts';

export async function plan({ cluster, context, kube }: TaskContext): Promise<{ result: CrdPlan & { adopt: ReleaseAdoption[] }; text: string; context: string }> {
  // The bundle may predate a hand edit of 01-core: the pins are checked again, not trusted.
  await assertOnePinPerChart({ cluster, context });
  const client = kube();
  const bundle = await loadBundle(cluster.name);
  const live = await listCrds(client);
  const [crds, core] = await Promise.all([planCrds(client, bundle, cluster.crdRules, live), planCore({ cluster, context })]);
  const adopt = planAdoption(core, live, new Set(bundle.crds.map((c) => c.metadata.name)));
  const result = { ...crds, adopt };
  const text = [formatPlan(crds), formatAdoption(adopt)].filter(Boolean).join('\n');
  return { result, text, context: client.context };
}

/** The plan as every report prints it: breaking changes are the findings. */
export function planReport(result: CrdPlan & { adopt: ReleaseAdoption[] }, text: string, context: string): ReportResult {
  const breaking = result.entries.filter((e) => e.action === 'breaking');
  const count = (action: string) => result.entries.filter((e) => e.action === action).length;
  return {
    json: { context, ...result },
    text,
    clean: breaking.length === 0,
    markdown: {
      summary: `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged, ${breaking.length} breaking`,
      findings: breaking.flatMap((e) => e.breaking.map(changeMarkdown)),
    },
  };
}

export const target = reportTarget('plan', async (ctx) => {
  const { result, text, context } = await plan(ctx);
  return planReport(result, text, context);
});

if (import.meta.main) await target.cli();
