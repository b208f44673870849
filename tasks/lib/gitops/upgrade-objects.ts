// What the object check judges for a CRD upgrade: the CRDs that would change, and every object of
// their kinds from the GitOps tree (as Flux builds it) and from the live cluster (read-only, at
// the version it is stored in). Against a git ref (a pull request's base) instead of a cluster:
// the CRDs the two bundles define differently, and the tree's objects only.
import { isDeepStrictEqual } from 'node:util';
import type { ClusterConfig } from '../model/config.ts';
import type { Bundle } from '../bundle/bundle-files.ts';
import type { Crd } from '../model/crd-bundle.ts';
import { planCrds, type CrdPlan } from '../crds/crd-plan.ts';
import { listCrds } from '../cluster/kube.ts';
import { readClusterTree } from './cluster-tree.ts';
import { listObjects, type Kube } from '../cluster/kube.ts';
import { checkObjects, crdFor, type CandidateObject, type ObjectCheck } from '../crds/object-check.ts';

export interface UpgradeCheck extends ObjectCheck {
  changed: string[];
}

/** `plan`: the caller's plan of this bundle (crds has one already); planned here when absent. */
export async function checkUpgradeObjects(kube: Kube, cluster: ClusterConfig, bundle: Bundle, timeoutMs: number, plan?: CrdPlan): Promise<UpgradeCheck> {
  plan ??= await planCrds(kube, bundle, cluster.crdRules);
  const changed = new Set(plan.entries.filter((e) => e.action !== 'unchanged').map((e) => e.name));
  const crds = bundle.crds.filter((c) => changed.has(c.metadata.name));
  if (crds.length === 0) return { changed: [], checked: 0, rejected: [], seconds: 0 };
  const candidates = [...(await treeObjects(cluster, crds)), ...(await liveObjects(kube, crds))];
  return { changed: [...changed], ...(await checkObjects(crds, candidates, timeoutMs)) };
}

/** Offline: the CRDs whose spec differs from the base bundle's (or that it lacks), judged on the tree's objects. */
export async function checkTreeUpgrade(cluster: ClusterConfig, base: Bundle, head: Bundle, timeoutMs: number): Promise<UpgradeCheck> {
  const before = new Map(base.crds.map((c) => [c.metadata.name, c.spec]));
  // The spec, not the content hash: a chart bump restamps every CRD's source annotation.
  const crds = head.crds.filter((c) => !isDeepStrictEqual(before.get(c.metadata.name), c.spec));
  if (crds.length === 0) return { changed: [], checked: 0, rejected: [], seconds: 0 };
  return { changed: crds.map((c) => c.metadata.name), ...(await checkObjects(crds, await treeObjects(cluster, crds), timeoutMs)) };
}

async function treeObjects(cluster: ClusterConfig, crds: Crd[]): Promise<CandidateObject[]> {
  if (!cluster.gitops) return [];
  const tree = await readClusterTree(cluster);
  return tree.kustomizations.flatMap((k) => k.objects.filter(({ object }) => crdFor(object, crds)).map(({ file, object }) => ({ origin: file, object })));
}

async function liveObjects(kube: Kube, crds: Crd[]): Promise<CandidateObject[]> {
  const live = await listCrds(kube);
  const candidates: CandidateObject[] = [];
  for (const crd of crds) {
    const current = live.get(crd.metadata.name);
    const stored = current?.spec.versions.find((v) => v.storage)?.name;
    if (!current || !stored) continue;
    for (const object of await listObjects(kube, `${crd.spec.group}/${stored}`, crd.spec.names.kind)) {
      candidates.push({ origin: `live ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`, object });
    }
  }
  return candidates;
}

function upgradeSummary(check: UpgradeCheck): string {
  return check.changed.length === 0
    ? 'no CRD would change: nothing to judge'
    : `${check.checked} objects of ${check.changed.length} changed CRDs judged by kube-apiserver in a throwaway control plane in ${check.seconds.toFixed(1)}s: ${check.rejected.length} rejected`;
}

export function formatUpgradeCheck(check: UpgradeCheck): string {
  const lines = check.rejected.map((r) => `✗ ${r.object} (${r.origin}): rejected by ${r.crd} ${r.version}: ${r.message}`);
  lines.push(upgradeSummary(check));
  return lines.join('\n');
}
