// Which core releases need a sync. helm upgrade always cuts a new revision, so a rerun would
// never be a no-op; comparing what helmfile would render with what helm deployed makes it one.
// (helmfile apply would do this with the helm-diff plugin, which this toolchain cannot build.)
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DeployedRelease } from '../tools/helm.ts';
import type { HelmfileRelease } from '../tools/helmfile.ts';
import { groupOf } from '../runtime/manifests.ts';

export type ReleaseAction = 'install' | 'upgrade' | 'up to date';

export interface ReleasePlan {
  release: HelmfileRelease;
  action: ReleaseAction;
  reason: string;
  /**
   * Objects of the deployed release that the new render lacks: Helm deletes each of them on the
   * sync, unless the live object carries helm.sh/resource-policy: keep.
   */
  removed: KubernetesObject[];
  /** The objects of the deployed release (helm get manifest); empty when not installed. */
  deployed: KubernetesObject[];
  /** What helmfile renders for it now: the release's objects once it is synced. */
  rendered: KubernetesObject[];
  /** What helm list says of the release; undefined when not installed. */
  installed: DeployedRelease | undefined;
}

/** "oci://host/path/cert-manager" + "v1.21.1" → "cert-manager-v1.21.1", the form helm list prints. */
export function chartLabel(release: HelmfileRelease): string {
  const name = release.chart.split('/').at(-1) ?? release.chart;
  return `${name}-${release.version}`;
}

function identity(object: KubernetesObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * What Helm matches old and new objects by: group, kind, namespace and name (a version bump of
 * the same object is not a removal). Charts often leave the namespace out; Helm puts such
 * objects in the release namespace, so both sides are read that way.
 */
function helmIdentity(object: KubernetesObject, releaseNamespace: string): string {
  const group = groupOf(object.apiVersion);
  return `${group}/${object.kind}/${object.metadata?.namespace ?? releaseNamespace}/${object.metadata?.name ?? ''}`;
}

/** The objects of `deployed` that `rendered` no longer has: what a sync would delete. */
export function removedObjects(deployed: KubernetesObject[], rendered: KubernetesObject[], releaseNamespace: string): KubernetesObject[] {
  const kept = new Set(rendered.map((o) => helmIdentity(o, releaseNamespace)));
  return deployed.filter((o) => !kept.has(helmIdentity(o, releaseNamespace)));
}

function sameObjects(a: KubernetesObject[], b: KubernetesObject[]): boolean {
  const sort = (list: KubernetesObject[]) => [...list].sort((x, y) => identity(x).localeCompare(identity(y)));
  return isDeepStrictEqual(sort(a), sort(b));
}

export function findDeployed(release: HelmfileRelease, deployed: DeployedRelease[]): DeployedRelease | undefined {
  return deployed.find((d) => d.name === release.name && d.namespace === release.namespace);
}

/** Why the deployed release is not the wanted chart in a good state, or undefined if it is. */
export function deploymentGap(release: HelmfileRelease, deployed: DeployedRelease | undefined): string | undefined {
  if (!deployed) return 'not installed';
  if (deployed.status !== 'deployed') return `status is ${deployed.status}`;
  const wanted = chartLabel(release);
  return deployed.chart === wanted ? undefined : `${deployed.chart} → ${wanted}`;
}

export function planRelease(
  release: HelmfileRelease,
  deployed: DeployedRelease | undefined,
  rendered: KubernetesObject[],
  live: KubernetesObject[],
): ReleasePlan {
  const removed = removedObjects(live, rendered, release.namespace);
  const gap = deploymentGap(release, deployed);
  const found = { removed, deployed: live, rendered, installed: deployed };
  if (gap) return { release, action: deployed ? 'upgrade' : 'install', reason: gap, ...found };
  if (!sameObjects(rendered, live)) return { release, action: 'upgrade', reason: 'rendered manifests differ from the deployed ones', ...found };
  return { release, action: 'up to date', reason: `${chartLabel(release)} deployed`, ...found };
}
