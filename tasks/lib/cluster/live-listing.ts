// Every object the API server holds, as identity only (uid and resourceVersion), in two kinds of
// request: aggregated discovery (/api and /apis, one answer each) and one metadata-only list per
// resource (PartialObjectMetadataList: no specs, no status). A resourceVersion changes on every
// write of an object, status included, so two equal listings mean nothing was written in between.
import pLimit from 'p-limit';
import type { ApiReader } from './api-reader.ts';

export interface LiveEntry {
  /** '' for the core group. */
  group: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  labels: Record<string, string>;
  /** "<namespace>/<name>" of the Helm release the object belongs to (Helm's ownership annotations), if any. */
  release?: string;
  /** Namespaces' only: elsewhere they can be large (last-applied-configuration) and no proof reads them. */
  annotations?: Record<string, string>;
}

/**
 * Written all the time by the cluster itself, and read by no phase: events, leases (leader
 * election, node heartbeats) and nodes (kwok and kubelets report status every few seconds).
 */
export const UNWATCHED = new Set(['events', 'events.events.k8s.io', 'leases.coordination.k8s.io', 'nodes', 'componentstatuses']);

const DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const PAGE = 500;

interface DiscoveredResource {
  resource: string;
  responseKind?: { kind: string };
  scope?: 'Namespaced' | 'Cluster';
  verbs?: string[];
}

interface GroupDiscovery {
  metadata?: { name?: string };
  versions?: Array<{ version: string; resources?: DiscoveredResource[] }>;
}

export interface ListableResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** Every listable resource the server serves, in its group's preferred version: two requests. */
export async function discover(kube: ApiReader): Promise<ListableResource[]> {
  const answers = await Promise.all(['/api', '/apis'].map((path) => kube.getJson(path, DISCOVERY) as Promise<{ kind?: string; items?: GroupDiscovery[] }>));
  const found: ListableResource[] = [];
  for (const answer of answers) {
    // An older server answers with the legacy APIVersions/APIGroupList: no resources in it.
    if (answer.kind !== 'APIGroupDiscoveryList') throw new Error(`aggregated discovery is not served (got ${answer.kind ?? 'no kind'})`);
    for (const group of answer.items ?? []) {
      const name = group.metadata?.name ?? '';
      // Versions come preferred first: every resource is listed once, in the most preferred
      // version that serves it (a kind served only by an older version is still found).
      const seen = new Set<string>();
      for (const { version, resources = [] } of group.versions ?? []) {
        for (const resource of resources) {
          if (!resource.verbs?.includes('list') || seen.has(resource.resource)) continue;
          seen.add(resource.resource);
          found.push({ group: name, version, resource: resource.resource, kind: resource.responseKind?.kind ?? resource.resource, namespaced: resource.scope !== 'Cluster' });
        }
      }
    }
  }
  return found;
}

interface MetadataList {
  metadata?: { continue?: string };
  items?: Array<{ metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> } }>;
}

const RELEASE_NAME = 'meta.helm.sh/release-name';
const RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';

/** One resource's objects, metadata only: across the cluster, or in one namespace. */
export async function listResource(kube: ApiReader, { group, version, resource, kind }: ListableResource, namespace?: string): Promise<LiveEntry[]> {
  const base = `${group ? `/apis/${group}/${version}` : `/api/${version}`}${namespace ? `/namespaces/${namespace}` : ''}/${resource}`;
  const entries: LiveEntry[] = [];
  let next: string | undefined;
  do {
    const page = (await kube.getJson(`${base}?limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ''}`, METADATA_LIST)) as MetadataList;
    for (const { metadata: m = {} } of page.items ?? []) {
      const entry: LiveEntry = { group, kind, namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '', resourceVersion: m.resourceVersion ?? '', labels: m.labels ?? {} };
      const release = m.annotations?.[RELEASE_NAME];
      if (release) entry.release = `${m.annotations?.[RELEASE_NAMESPACE] ?? ''}/${release}`;
      if (kind === 'Namespace' && !group) entry.annotations = m.annotations ?? {};
      entries.push(entry);
    }
    next = page.metadata?.continue || undefined;
  } while (next);
  return entries;
}

/** Every watched object of the cluster (all but UNWATCHED), sorted. */
export async function listLive(kube: ApiReader): Promise<LiveEntry[]> {
  const limit = pLimit(8);
  const watched = (await discover(kube)).filter((r) => !UNWATCHED.has(r.group ? `${r.resource}.${r.group}` : r.resource));
  const lists = await Promise.all(watched.map((r) => limit(() => listResource(kube, r))));
  return lists.flat().sort((a, b) => entryKey(a).localeCompare(entryKey(b)));
}

export const entryKey = (e: Pick<LiveEntry, 'group' | 'kind' | 'namespace' | 'name'>): string => `${e.group}/${e.kind}/${e.namespace}/${e.name}`;
