// upgrade-check (read-only): would the API server accept every object of the CRDs the bundle
// changes? Judged by kube-apiserver itself in a throwaway control plane holding the new CRDs.
// Exit 0 all accepted, 1 some rejected, 2 error.
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { runReport } from './lib/runner/task.ts';
import { checkUpgradeObjects, formatUpgradeCheck } from './lib/gitops/upgrade-objects.ts';

if (import.meta.main) {
  await runReport(
    'upgrade-check',
    async ({ cluster, kube, timeoutMs }) => {
      const check = await checkUpgradeObjects(kube(), cluster, await loadBundle(cluster.name), timeoutMs);
      return { json: check, text: formatUpgradeCheck(check), clean: check.rejected.length === 0 };
    },
    { guarded: true },
  );
}
