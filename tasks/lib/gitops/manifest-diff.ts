// Two renders of one chart compared object by object, as a reviewer reads an upgrade: which objects
// the second adds, removes or changes. The labels helm-controller puts on every object it applies
// (its origin labels) are not a change: a release taken over by Flux carries them whatever the values.
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';

/** Labels helm-controller adds to every object of a release it manages (listed in the report, never a difference). */
export const HELM_CONTROLLER_LABELS = ['helm.toolkit.fluxcd.io/name', 'helm.toolkit.fluxcd.io/namespace'] as const;

export interface ManifestDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** `Deployment cert-manager/cert-manager`, `ClusterRole cert-manager-controller`. */
export const objectName = (o: KubernetesObject): string => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/** The group and kind with the name: an object moved from apps/v1beta1 to apps/v1 is the same object. */
const identity = (o: KubernetesObject) => `${(o.apiVersion ?? '').split('/').slice(0, -1).join('/')}|${objectName(o)}`;

function withoutOriginLabels(o: KubernetesObject): KubernetesObject {
  const labels = { ...(o.metadata?.labels ?? {}) };
  for (const label of HELM_CONTROLLER_LABELS) delete labels[label];
  return { ...o, metadata: { ...o.metadata, labels } };
}

/** What changes going from `before` to `after` (each a chart's rendered objects), each list sorted. */
export function diffManifests(before: KubernetesObject[], after: KubernetesObject[]): ManifestDiff {
  const [was, now] = [new Map(before.map((o) => [identity(o), o])), new Map(after.map((o) => [identity(o), o]))];
  const names = (keys: string[], from: Map<string, KubernetesObject>) => keys.map((k) => objectName(from.get(k)!)).sort();
  return {
    added: names([...now.keys()].filter((k) => !was.has(k)), now),
    removed: names([...was.keys()].filter((k) => !now.has(k)), was),
    changed: names([...now.keys()].filter((k) => was.has(k) && !isDeepStrictEqual(withoutOriginLabels(was.get(k)!), withoutOriginLabels(now.get(k)!))), now),
  };
}

export const manifestChanges = (d: ManifestDiff): number => d.added.length + d.removed.length + d.changed.length;

/** `changed: Deployment a/b, Service a/c; added: CustomResourceDefinition x` (at most `shown` names per list). */
export function describeManifestDiff(d: ManifestDiff, shown = 4): string {
  if (manifestChanges(d) === 0) return 'the same objects';
  const list = (names: string[]) => names.slice(0, shown).join(', ') + (names.length > shown ? ` and ${names.length - shown} more` : '');
  return (['changed', 'added', 'removed'] as const).filter((k) => d[k].length).map((k) => `${k}: ${list(d[k])}`).join('; ');
}
