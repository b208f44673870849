// How every stand-in of the rehearsal writes what a controller would: the object's status with its
// conditions for the current generation (observedGeneration set, so Flux's and kstatus's checks
// read it as current), through the status subresource, namespaced or cluster-scoped. A write that
// lost a race with another writer is made again over the object as it is now.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiException, apiError, type Kube } from '../cluster/kube.ts';

export interface StandinCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

type WithStatus = KubernetesObject & { status?: Record<string, unknown> };

/** `plural`: the resource's plural name (helmreleases, ocirepositories, clusterissuers). `extra`: other status fields. */
export async function writeStandinStatus(kube: Kube, object: WithStatus, plural: string, conditions: StandinCondition[], extra: Record<string, unknown> = {}): Promise<void> {
  const [group, version] = object.apiVersion!.split('/') as [string, string];
  const now = new Date().toISOString();
  const generation = object.metadata?.generation;
  const body = {
    ...object,
    status: { ...extra, observedGeneration: generation, conditions: conditions.map((c) => ({ ...c, lastTransitionTime: now, observedGeneration: generation })) },
  };
  const name = object.metadata!.name!;
  const namespace = object.metadata?.namespace;
  const replace = (current: WithStatus) => {
    const next = { ...current, status: body.status };
    return namespace
      ? kube.customObjects.replaceNamespacedCustomObjectStatus({ group, version, plural, namespace, name, body: next })
      : kube.customObjects.replaceClusterCustomObjectStatus({ group, version, plural, name, body: next });
  };
  const subject = `${object.kind} ${namespace ? `${namespace}/` : ''}${name}`;
  try {
    await replace(object);
  } catch (cause) {
    if (!(cause instanceof ApiException && cause.code === 409)) throw apiError(cause, subject, 'status write failed');
    // Changed since the stand-in read it (kustomize-controller applied it again, say): written over
    // the object as it is now, unless a new generation came, which the stand-in sees on its next look.
    const fresh = (await (namespace
      ? kube.customObjects.getNamespacedCustomObject({ group, version, plural, namespace, name })
      : kube.customObjects.getClusterCustomObject({ group, version, plural, name }))) as WithStatus;
    if (fresh.metadata?.generation !== generation) return;
    await replace(fresh).catch((again: unknown) => {
      throw apiError(again, subject, 'status write failed');
    });
  }
}
