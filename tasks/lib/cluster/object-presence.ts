// Which objects of a set are gone from the cluster, read cheaply: aggregated discovery once, then
// one metadata-only list per kind and namespace the set uses (never a GET per object). core (is
// each release whole?), verify and drift ask it about the objects of helm's release manifests.
import pLimit from 'p-limit';
import { groupOf } from '../runtime/manifests.ts';
import type { ApiReader } from './api-reader.ts';
import { discover, listResource, type ListableResource } from './live-listing.ts';

/** An object as Helm places it: `namespace` is the manifest's or, when it names none, the release's. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface Absence {
  ref: ObjectRef;
  /** "Deployment cert-manager/cert-manager"; a cluster-scoped object without a namespace. */
  text: string;
  /** Its kind is not served at all (the CRD is gone): it cannot exist until the kind is back. */
  unserved: boolean;
}

/** "apps/v1 Deployment cert-manager/cert-manager": how a ref is stored (core's record) and read back. */
export const formatRef = ({ apiVersion, kind, namespace, name }: ObjectRef): string => `${apiVersion} ${kind} ${namespace}/${name}`;

export function parseRef(text: string): ObjectRef | undefined {
  const [apiVersion, kind, where, ...rest] = text.split(' ');
  const slash = where?.indexOf('/') ?? -1;
  if (!apiVersion || !kind || !where || rest.length || slash < 0) return undefined;
  return { apiVersion, kind, namespace: where.slice(0, slash), name: where.slice(slash + 1) };
}

export const refText = ({ kind, namespace, name }: ObjectRef, namespaced: boolean): string => `${kind} ${namespaced && namespace ? `${namespace}/` : ''}${name}`;

/** The refs that do not exist now, in the order given. */
export async function absentObjects(kube: ApiReader, refs: ObjectRef[]): Promise<Absence[]> {
  if (refs.length === 0) return [];
  const served = new Map<string, ListableResource>();
  for (const resource of await discover(kube)) served.set(`${resource.group}/${resource.kind}`, resource);
  const resourceOf = (ref: ObjectRef) => served.get(`${groupOf(ref.apiVersion)}/${ref.kind}`);
  // One list per resource and namespace (cluster-scoped: one list).
  const lists = new Map<string, { resource: ListableResource; namespace: string | undefined }>();
  for (const ref of refs) {
    const resource = resourceOf(ref);
    if (!resource) continue;
    const namespace = resource.namespaced ? ref.namespace : undefined;
    lists.set(`${resource.group}/${resource.resource}/${namespace ?? ''}`, { resource, namespace });
  }
  const limit = pLimit(8);
  const names = new Map(
    await Promise.all(
      [...lists].map(([key, { resource, namespace }]) => limit(async () => [key, new Set((await listResource(kube, resource, namespace)).map((e) => e.name))] as const)),
    ),
  );
  return refs.flatMap((ref): Absence[] => {
    const resource = resourceOf(ref);
    if (!resource) return [{ ref, text: refText(ref, true), unserved: true }];
    const namespace = resource.namespaced ? ref.namespace : '';
    const present = names.get(`${resource.group}/${resource.resource}/${namespace}`)?.has(ref.name);
    return present ? [] : [{ ref, text: refText(ref, resource.namespaced), unserved: false }];
  });
}
