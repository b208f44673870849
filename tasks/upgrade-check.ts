// upgrade-check (read-only): would the API server accept every object of the CRDs the bundle
// changes? Judged by kube-apiserver itself in a throwaway control plane holding the new CRDs.
// Against the live cluster: the CRDs that would change there, the tree's and the live objects.
// With --base <ref> (pr-check): the CRDs changed since that ref, the tree's objects; no cluster.
// Exit 0 all accepted, 1 some rejected, 2 error.
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { withBundleAtRef } from './lib/bundle/bundle-at-ref.ts';
import { checkTreeUpgrade, checkUpgradeObjects, formatUpgradeCheck, type UpgradeCheck } from './lib/gitops/upgrade-objects.ts';
import { reportTarget, type ReportResult, type TaskContext } from './lib/runner/task.ts';
import { code, lines, md } from './lib/runtime/markdown.ts';

export function upgradeReport(check: UpgradeCheck): ReportResult {
  return {
    json: check,
    text: formatUpgradeCheck(check),
    clean: check.rejected.length === 0,
    markdown: {
      summary: check.changed.length ? `${check.rejected.length} of ${check.checked} objects rejected` : 'no CRD changes',
      findings: check.rejected.map((r) => lines(`**rejected** ${md(r.object)} (${code(r.origin)}) by ${code(`${r.crd} ${r.version}`)}`, md(r.message))),
      sections: check.changed.length ? [`Changed CRDs: ${check.changed.map(code).join(', ')}`] : [],
    },
  };
}

async function upgradeCheck({ cluster, kube, timeoutMs, options }: TaskContext): Promise<UpgradeCheck> {
  const head = await loadBundle(cluster.name);
  if (!options.base) return checkUpgradeObjects(kube(), cluster, head, timeoutMs);
  return withBundleAtRef(cluster.name, options.base, async (dir) => checkTreeUpgrade(cluster, await loadBundle('base', dir), head, timeoutMs));
}

export const target = reportTarget('upgrade-check', async (ctx) => upgradeReport(await upgradeCheck(ctx)), { guarded: (ctx) => !ctx.options.base });

if (import.meta.main) await target.cli();
