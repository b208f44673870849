// Custom resources a core release deployed that are gone from the cluster. Deleting a CRD deletes
// every object of it (a botched migration, the pipeline benchmark, a hand `kubectl delete crd`);
// helm compares manifests, not the cluster, so it would call the release deployed while, say, its
// FluxInstance no longer exists. core upgrades such a release: helm recreates what is missing.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ManifestEntry } from '../model/crd-bundle.ts';
import { readObject, type Kube } from '../cluster/kube.ts';

/** "apiVersion kind namespace/name" of each object of a bundle CRD kind, namespace resolved as Helm does. */
export function customResourceRefs(objects: KubernetesObject[], releaseNamespace: string, bundle: ManifestEntry[]): string[] {
  const scopes = new Map(bundle.map((c) => [`${c.group}/${c.kind}`, c.scope]));
  return objects.flatMap((o) => {
    const group = (o.apiVersion ?? '').split('/').slice(0, -1).join('/');
    const scope = scopes.get(`${group}/${o.kind}`);
    if (!scope) return [];
    const namespace = scope === 'Namespaced' ? (o.metadata?.namespace ?? releaseNamespace) : '';
    return [`${o.apiVersion} ${o.kind} ${namespace ? `${namespace}/` : ''}${o.metadata?.name ?? ''}`];
  });
}

/** The refs (customResourceRefs) that do not exist in the cluster, read at once. */
export async function missingResources(kube: Kube, refs: string[]): Promise<string[]> {
  const found = await Promise.all(
    refs.map(async (ref) => {
      const [apiVersion, kind, where] = ref.split(' ') as [string, string, string];
      const [namespace, name] = where.includes('/') ? where.split('/') : [undefined, where];
      try {
        return (await readObject(kube, { apiVersion, kind, metadata: { name, namespace } })) !== undefined;
      } catch (error) {
        // The kind itself is not served (its CRD is gone): the object is missing too.
        if (error instanceof Error && /no matches for kind/.test(error.message)) return false;
        throw error;
      }
    }),
  );
  return refs.filter((_, i) => !found[i]);
}
