// crds: server-side apply the rendered bundle, then wait until every CRD is Established,
// NamesAccepted and served by discovery. Reruns say "up to date" for each unchanged CRD.
import { applyAll, outcomeLine, summarize } from './lib/apply.ts';
import { loadBundle } from './lib/bundle-files.ts';
import { crdServingStates } from './lib/crd-status.ts';
import { guardIdentity } from './lib/identity.ts';
import { runPhase, type TaskContext } from './lib/task.ts';
import { waitUntilReady } from './lib/wait.ts';

export async function applyCrds({ cluster, log, kube, options }: TaskContext): Promise<void> {
  const { crds } = await loadBundle(cluster.name);
  const client = kube();
  await guardIdentity(client, cluster);
  log.action(`applying ${crds.length} CRDs server-side to ${client.context}`);
  const results = await applyAll(client, crds);
  for (const result of results) (result.outcome === 'unchanged' ? log.info : log.success)(outcomeLine(result));
  log.success(`CRDs: ${summarize(results)}`);

  log.waiting(`waiting for ${crds.length} CRDs to be Established and served`);
  const byName = new Map(crds.map((crd) => [crd.metadata.name, crd]));
  await waitUntilReady(
    crds.map((crd) => crd.metadata.name),
    (pending) => crdServingStates(client, pending.map((name) => byName.get(name)!)),
    {
      timeoutMs: options.timeout * 1000,
      what: `CRDs in ${client.context} to be Established and served`,
      fix: `kubectl --context ${client.context} get crd <name> -o yaml shows the conditions; fix the CRD and rerun nx run ${cluster.name}:crds`,
    },
  );
  log.success(`all ${crds.length} CRDs Established, NamesAccepted and served`);
}

if (import.meta.main) await runPhase('crds', applyCrds);
