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
  verbs?: string[];
}

interface GroupDiscovery {
  metadata?: { name?: string };
  versions?: Array<{ version: string; resources?: DiscoveredResource[] }>;
}

interface ListableResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
}

async function discover(kube: ApiReader): Promise<ListableResource[]> {
  const answers = await Promise.all(['/api', '/apis'].map((path) => kube.getJson(path, DISCOVERY) as Promise<{ kind?: string; items?: GroupDiscovery[] }>));
  const found: ListableResource[] = [];
  for (const answer of answers) {
    // An older server answers with the legacy APIVersions/APIGroupList: no resources in it.
    if (answer.kind !== 'APIGroupDiscoveryList') throw new Error(`aggregated discovery is not served (got ${answer.kind ?? 'no kind'})`);
    for (const group of answer.items ?? []) {
      const name = group.metadata?.name ?? '';
      // The first version is the preferred one: every object is listed once, in that version.
      const preferred = group.versions?.[0];
      for (const resource of preferred?.resources ?? []) {
        const key = name ? `${resource.resource}.${name}` : resource.resource;
        if (!resource.verbs?.includes('list') || UNWATCHED.has(key)) continue;
        found.push({ group: name, version: preferred!.version, resource: resource.resource, kind: resource.responseKind?.kind ?? resource.resource });
      }
    }
  }
  return found;
}

interface MetadataList {
  metadata?: { continue?: string };
  items?: Array<{ metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> } }>;
}

async function listResource(kube: ApiReader, { group, version, resource, kind }: ListableResource): Promise<LiveEntry[]> {
  const base = group ? `/apis/${group}/${version}/${resource}` : `/api/${version}/${resource}`;
  const entries: LiveEntry[] = [];
  let next: string | undefined;
  do {
    const page = (await kube.getJson(`${base}?limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ''}`, METADATA_LIST)) as MetadataList;
    for (const { metadata: m = {} } of page.items ?? []) {
      const entry: LiveEntry = { group, kind, namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '', resourceVersion: m.resourceVersion ?? '', labels: m.labels ?? {} };
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
  const lists = await Promise.all((await discover(kube)).map((r) => limit(() => listResource(kube, r))));
  return lists.flat().sort((a, b) => entryKey(a).localeCompare(entryKey(b)));
}

export const entryKey = (e: Pick<LiveEntry, 'group' | 'kind' | 'namespace' | 'name'>): string => `${e.group}/${e.kind}/${e.namespace}/${e.name}`;
