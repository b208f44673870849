// Counts the custom resources of each CRD before and after a phase that could lose them. Whatever
// the cause (a Helm upgrade deleting a CRD, a chart deleting objects, a hand edit), a count that
// drops stops the run and names the kind: losing a cluster's SecretStores is never silent.
import pLimit from 'p-limit';
import { apiError, isNotFound, type Kube } from '../cluster/kube.ts';

export interface KindRef {
  /** The CRD's name, e.g. clustersecretstores.external-secrets.io. */
  crd: string;
  group: string;
  /** Any served version: the count is the same in every version. */
  version: string;
  plural: string;
  kind: string;
}

/** What a CRD (from the bundle or the live cluster: both have this shape) says about listing its objects. */
export function kindRefOf(crd: {
  metadata?: { name?: string };
  spec: { group: string; names: { plural: string; kind: string }; versions: Array<{ name: string; served: boolean }> };
}): KindRef {
  const version = crd.spec.versions.find((v) => v.served) ?? crd.spec.versions[0];
  return { crd: crd.metadata?.name ?? '', group: crd.spec.group, version: version?.name ?? '', plural: crd.spec.names.plural, kind: crd.spec.names.kind };
}

/** Objects per CRD name; undefined when the kind is not served (the CRD is gone). */
export type ObjectCounts = Map<string, number | undefined>;

interface ListPage {
  items?: unknown[];
  metadata?: { continue?: string; remainingItemCount?: number };
}

/** One kind, across every namespace, paged: the first page's remainingItemCount usually ends it. */
async function countKind(kube: Kube, { crd, group, version, plural }: KindRef): Promise<number | undefined> {
  let count = 0;
  let next: string | undefined;
  do {
    let page: ListPage;
    try {
      page = (await kube.customObjects.listClusterCustomObject({ group, version, plural, limit: 500, _continue: next })) as ListPage;
    } catch (cause) {
      if (isNotFound(cause)) return undefined;
      throw apiError(cause, `custom resources of ${crd}`, 'list failed');
    }
    count += page.items?.length ?? 0;
    const remaining = page.metadata?.remainingItemCount;
    if (remaining !== undefined && remaining !== null) return count + remaining;
    next = page.metadata?.continue || undefined;
  } while (next);
  return count;
}

export async function countObjects(kube: Kube, kinds: KindRef[]): Promise<ObjectCounts> {
  const limit = pLimit(8);
  const counts = await Promise.all(kinds.map((kind) => limit(async () => [kind.crd, await countKind(kube, kind)] as const)));
  return new Map(counts);
}

export interface CountDrop {
  crd: string;
  kind: string;
  before: number;
  /** undefined: the CRD itself is gone. */
  after: number | undefined;
}

/** Kinds that had objects (or a CRD) before and have fewer (or no CRD) after. New objects are fine. */
export function countDrops(kinds: KindRef[], before: ObjectCounts, after: ObjectCounts): CountDrop[] {
  return kinds.flatMap(({ crd, kind }) => {
    const was = before.get(crd);
    const now = after.get(crd);
    if (was === undefined) return [];
    return now === undefined || now < was ? [{ crd, kind, before: was, after: now }] : [];
  });
}

export function formatDrop({ crd, kind, before, after }: CountDrop): string {
  const objects = (n: number) => `${n} object${n === 1 ? '' : 's'}`;
  return after === undefined
    ? `${kind} (${crd}): the CRD was deleted; ${objects(before)} before, none served after`
    : `${kind} (${crd}): ${objects(before)} before, ${after} after`;
}
