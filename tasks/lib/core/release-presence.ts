// Whether each core release is whole: every object of its deployed manifest still exists. Helm
// compares manifests, not the cluster: a Deployment deleted by hand, by a namespace cleanup, an
// etcd restore or with its CRD leaves helm calling the release deployed, and a rerun of core
// would change nothing. core upgrades such a release (helm re-creates what its manifest holds),
// verify fails naming the object, drift reports it.
import type { KubernetesObject } from '@kubernetes/client-node';
import { absentObjects, type Absence, type ObjectRef } from '../cluster/object-presence.ts';
import type { ApiReader } from '../cluster/api-reader.ts';
import type { ClusterTarget } from '../model/cluster-target.ts';
import { parseManifests } from '../runtime/manifests.ts';
import { deployedManifest } from '../tools/helm.ts';

export interface ReleaseObjects {
  namespace: string;
  name: string;
  objects: ObjectRef[];
}

/** A release with objects gone from the cluster. */
export interface ReleaseGap {
  namespace: string;
  name: string;
  absent: Absence[];
}

/**
 * A Job that deletes itself once finished (ttlSecondsAfterFinished) is meant to disappear: its
 * absence says nothing about the release. (Hooks are not in the manifest at all.)
 */
const vanishesByDesign = (o: KubernetesObject & { spec?: { ttlSecondsAfterFinished?: number } }): boolean =>
  o.kind === 'Job' && o.spec?.ttlSecondsAfterFinished !== undefined;

/** The objects of a release manifest, in the namespace Helm puts them (the release's when the chart names none). */
export function releaseObjectRefs(objects: KubernetesObject[], releaseNamespace: string): ObjectRef[] {
  return objects
    .filter((o) => o.kind && o.metadata?.name && !vanishesByDesign(o))
    .map((o) => ({ apiVersion: o.apiVersion ?? '', kind: o.kind!, namespace: o.metadata?.namespace ?? releaseNamespace, name: o.metadata!.name! }));
}

/** What helm deployed for each release (helm get manifest, all at once), as objects where Helm puts them. */
export async function deployedObjects(target: ClusterTarget, releases: Array<{ namespace: string; name: string }>): Promise<ReleaseObjects[]> {
  return Promise.all(
    releases.map(async (r) => releaseObjectsOf(r, parseManifests(await deployedManifest(target, r), `helm release ${r.name}`))),
  );
}

/** The objects of a release's manifest (deployed or rendered), where Helm puts them. */
export const releaseObjectsOf = (release: { namespace: string; name: string }, manifest: KubernetesObject[]): ReleaseObjects => ({
  namespace: release.namespace,
  name: release.name,
  objects: releaseObjectRefs(manifest, release.namespace),
});

/** What helm deployed for these installed releases and which of them lack objects of it (verify, drift). */
export async function deployedWholeness(kube: ApiReader, target: ClusterTarget, releases: Array<{ namespace: string; name: string }>): Promise<{ manifests: ReleaseObjects[]; gaps: ReleaseGap[] }> {
  const manifests = await deployedObjects(target, releases);
  return { manifests, gaps: await incompleteReleases(kube, manifests) };
}

/** The releases that lack objects of their manifest, with what each lacks; one read for all of them. */
export async function incompleteReleases(kube: ApiReader, releases: ReleaseObjects[]): Promise<ReleaseGap[]> {
  const absent = await absentObjects(kube, releases.flatMap((r) => r.objects));
  const gaps = releases.map((r) => ({ namespace: r.namespace, name: r.name, absent: absent.filter((a) => r.objects.includes(a.ref)) }));
  return gaps.filter((g) => g.absent.length > 0);
}

export const UNSERVED = 'its kind is not served: CRD gone?';

/** "Deployment cert-manager/cert-manager, ClusterIssuer letsencrypt (its kind is not served: CRD gone?)" */
export const absentText = (absent: Absence[]): string => absent.map((a) => `${a.text}${a.unserved ? ` (${UNSERVED})` : ''}`).join(', ');
