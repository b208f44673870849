// How a cluster bootstrapped the old way (CRDs installed by the core releases themselves) is
// adopted: per release, the CRDs it owns today, which of them the crds phase takes over, which
// the next core sync would have deleted and are kept, and whose field managers change.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LiveCrd } from '../model/crd-bundle.ts';
import { isCrd } from '../model/crd-bundle.ts';
import { leavingCrds } from './crd-keep.ts';
import { FIELD_MANAGER } from '../cluster/kube.ts';
import type { ReleasePlan } from './release-plan.ts';

export interface ManagerChange {
  crd: string;
  /** Field managers of the live CRD today (status subresource left out). */
  from: string[];
  to: string;
}

export interface ReleaseAdoption {
  release: string;
  namespace: string;
  /** CRDs in the deployed release manifest: Helm owns them today. */
  owned: string[];
  /** Owned CRDs that the bundle has: the crds phase applies them from now on. */
  takenOver: string[];
  /** CRDs the next core sync would delete: kept instead (helm.sh/resource-policy: keep). */
  protected: string[];
  /** Of those, the ones in no bundle: kept and reported, never deleted; nothing updates them any more. */
  unbundled: string[];
  managers: ManagerChange[];
}

function managersOf(crd: KubernetesObject | undefined): string[] {
  const names = (crd?.metadata?.managedFields ?? []).filter((f) => f.subresource !== 'status').map((f) => f.manager ?? '?');
  return [...new Set(names)].sort();
}

export function planAdoption(plan: ReleasePlan[], liveCrds: Map<string, LiveCrd>, bundle: Set<string>): ReleaseAdoption[] {
  const leaving = leavingCrds(plan, liveCrds, bundle);
  return plan.flatMap(({ release, deployed }) => {
    const owned = deployed.filter(isCrd).map((c) => c.metadata.name).sort();
    if (owned.length === 0) return [];
    const takenOver = owned.filter((name) => bundle.has(name));
    const mine = leaving.filter((c) => c.release === release.name && c.namespace === release.namespace);
    const managers = takenOver
      .map((crd) => ({ crd, from: managersOf(liveCrds.get(crd) as KubernetesObject | undefined), to: FIELD_MANAGER }))
      .filter((m) => m.from.some((manager) => manager !== FIELD_MANAGER));
    return [
      {
        release: release.name,
        namespace: release.namespace,
        owned,
        takenOver,
        protected: mine.map((c) => c.name).sort(),
        unbundled: mine.filter((c) => !c.inBundle).map((c) => c.name).sort(),
        managers,
      },
    ];
  });
}

export function formatAdoption(adoptions: ReleaseAdoption[]): string {
  return adoptions
    .map((a) => {
      const from = [...new Set(a.managers.flatMap((m) => m.from))].filter((m) => m !== FIELD_MANAGER);
      const lines = [`ADOPT  release ${a.namespace}/${a.release} owns ${a.owned.length} CRDs today`];
      if (a.takenOver.length) {
        lines.push(`    ${a.takenOver.length} taken over by the crds phase${from.length ? ` (field managers ${from.join(', ')} → ${FIELD_MANAGER})` : ''}`);
      }
      if (a.protected.length) lines.push(`    ${a.protected.length} would be deleted by the next core sync: kept instead (helm.sh/resource-policy: keep)`);
      for (const name of a.unbundled) lines.push(`    ${name}: in no bundle: kept and reported, never deleted; delete it by hand once nothing uses it`);
      return lines.join('\n');
    })
    .join('\n');
}
