// Built-in API versions the GitOps tree applies that a Kubernetes minor does not serve, each with
// the versions of the same kind that minor does serve. What pluto and kubent report, judged on
// the tree as Flux builds it (so only files a Kustomization applies count).
import { groupOf } from '../runtime/manifests.ts';
import type { FluxKustomization } from './flux-tree.ts';

export interface UnservedApi {
  apiVersion: string;
  kind: string;
  /** namespace/name (or name) of the object. */
  object: string;
  /** The file it comes from, relative to the repository root. */
  file: string;
  kustomization: string;
  /** The minor in use serves it: the upgrade is what removes it. */
  servedNow: boolean;
  /** The same kind in versions the target serves, the preferred first; empty when it serves none by default. */
  replacements: string[];
}

export interface ServedKinds {
  /** "apiVersion Kind" entries of the minor in use and of the target. */
  now: Set<string>;
  target: Set<string>;
  /** Kubernetes' own API groups: objects of other groups are CRD kinds, judged elsewhere. */
  builtinGroups: Set<string>;
}

export function unservedApis(kustomizations: FluxKustomization[], served: ServedKinds): UnservedApi[] {
  const found = new Map<string, UnservedApi>();
  for (const k of kustomizations) {
    for (const { object, file } of k.objects) {
      const { apiVersion = '', kind = '' } = object;
      if (!served.builtinGroups.has(groupOf(apiVersion)) || served.target.has(`${apiVersion} ${kind}`)) continue;
      const name = object.metadata?.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : (object.metadata?.name ?? '');
      const key = `${file} ${apiVersion} ${kind} ${name}`;
      if (found.has(key)) continue;
      found.set(key, {
        apiVersion,
        kind,
        object: name,
        file,
        kustomization: k.id,
        servedNow: served.now.has(`${apiVersion} ${kind}`),
        replacements: replacementsFor(apiVersion, kind, served.target),
      });
    }
  }
  return [...found.values()];
}

/** The versions of group/kind the minor serves, in Kubernetes' own order of preference. */
export function replacementsFor(apiVersion: string, kind: string, served: Set<string>): string[] {
  const group = groupOf(apiVersion);
  return [...served]
    .map((entry) => entry.split(' ') as [string, string])
    .filter(([v, k]) => k === kind && groupOf(v) === group)
    .map(([v]) => v)
    .sort((a, b) => compareVersionPriority(versionOf(b), versionOf(a)));
}

const versionOf = (apiVersion: string) => apiVersion.slice(apiVersion.indexOf('/') + 1);

/**
 * Kubernetes' version priority (apimachinery's CompareKubeAwareVersionStrings): GA before beta
 * before alpha, then the higher major, then the higher pre-release number. v2 > v1 > v1beta2.
 */
export function compareVersionPriority(a: string, b: string): number {
  const rank = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return 0;
}
