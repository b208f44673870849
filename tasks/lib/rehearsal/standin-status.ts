// How every stand-in of the rehearsal writes what a controller would: the object's status with its
// conditions for the current generation (observedGeneration set, so Flux's and kstatus's checks
// read it as current), through the status subresource, namespaced or cluster-scoped.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Kube } from '../cluster/kube.ts';

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
  await (namespace
    ? kube.customObjects.replaceNamespacedCustomObjectStatus({ group, version, plural, namespace, name, body })
    : kube.customObjects.replaceClusterCustomObjectStatus({ group, version, plural, name, body }));
}
