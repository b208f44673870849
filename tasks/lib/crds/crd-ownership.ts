// Who else applies a CRD: on a GitOps cluster Flux's helm-controller or kustomize-controller
// applies the same chart CRDs after the bootstrap, the old pipeline used kubectl. Their presence is
// reported (plan, drift, the crds phase), never taken over: the content is what is judged, by hash.
import type { KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER, KEEP_FIELD_MANAGER } from '../cluster/kube.ts';

type ManagedField = NonNullable<NonNullable<KubernetesObject['metadata']>['managedFields']>[number];

const ours = (f: ManagedField) => f.manager === FIELD_MANAGER || f.manager === KEEP_FIELD_MANAGER || f.subresource === 'status';

/** Field managers other than this tool's, ignoring the status subresource (the API server's own). */
export function foreignManagers(live: KubernetesObject): string[] {
  return [...new Set((live.metadata?.managedFields ?? []).filter((f) => !ours(f)).map((f) => f.manager ?? '?'))].sort();
}
