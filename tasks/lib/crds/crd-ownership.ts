// After the CRD phase, the bundle's CRDs are owned by it alone. A CRD that another field manager
// also touched (kubectl apply of the old pipeline, Helm) can never be proven unchanged by hash,
// and would cost a server-side dry-run on every later run. So the crds phase takes ownership
// deliberately: it drops the other managers' entries from managedFields (the values stay; the
// spec is ours and equal) and says whose fields it took. The guard is unaffected: it judges content.
import type { KubernetesObject } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { duringWrite } from '../runtime/interrupt.ts';
import { listCrds } from '../cluster/kube.ts';
import { apiError, FIELD_MANAGER, KEEP_FIELD_MANAGER, type Kube } from '../cluster/kube.ts';

type ManagedField = NonNullable<NonNullable<KubernetesObject['metadata']>['managedFields']>[number];

const ours = (f: ManagedField) => f.manager === FIELD_MANAGER || f.manager === KEEP_FIELD_MANAGER || f.subresource === 'status';

/** Field managers other than this tool's, ignoring the status subresource (the API server's own). */
export function foreignManagers(live: KubernetesObject): string[] {
  return [...new Set((live.metadata?.managedFields ?? []).filter((f) => !ours(f)).map((f) => f.manager ?? '?'))].sort();
}

/** Takes the fields of other managers on the named CRDs; returns, per manager, the CRDs taken from it. */
export async function takeOwnership(kube: Kube, names: string[]): Promise<Map<string, string[]>> {
  const live = await listCrds(kube);
  const taken = new Map<string, string[]>();
  for (const name of names) {
    const crd = live.get(name);
    const others = crd ? foreignManagers(crd as KubernetesObject) : [];
    if (!crd || others.length === 0) continue;
    const patch = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      // resourceVersion: refuse if someone wrote it since we listed it (their fields would be lost).
      metadata: { name, resourceVersion: crd.metadata?.resourceVersion, managedFields: (crd.metadata?.managedFields ?? []).filter(ours) },
    };
    try {
      await duringWrite(() => kube.objects.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch));
    } catch (cause) {
      throw apiError(cause, `CRD ${name}`, 'taking ownership of its fields failed');
    }
    for (const manager of others) taken.set(manager, [...(taken.get(manager) ?? []), name]);
  }
  return taken;
}
