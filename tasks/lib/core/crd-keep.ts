// Keeps CRDs out of Helm's reach. When a release stops rendering a CRD (its CRD switch goes from
// on to off, or a chart bump drops it), Helm deletes the CRD on the next sync, and the API server
// deletes every object of its kind with it, unless the live CRD carries helm.sh/resource-policy:
// keep. This module finds those CRDs in a core plan and annotates the ones that lack it.
import pLimit from 'p-limit';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LiveCrd } from '../model/crd-bundle.ts';
import { isCrd, isKept, KEEP, KEEP_ANNOTATION } from '../model/crd-bundle.ts';
import { KEEP_FIELD_MANAGER, serverSideApply, type Kube } from '../cluster/kube.ts';
import type { ReleasePlan } from './release-plan.ts';

export interface LeavingCrd {
  name: string;
  release: string;
  namespace: string;
  /** In the CRD bundle: the crds phase owns it from now on. */
  inBundle: boolean;
  /** The live CRD already carries helm.sh/resource-policy: keep. */
  kept: boolean;
}

/** The live CRDs each release's next sync would delete (one already gone needs nothing), with what protects them. */
export function leavingCrds(plan: ReleasePlan[], liveCrds: Map<string, LiveCrd>, bundle: Set<string>): LeavingCrd[] {
  return plan.flatMap(({ release, removed }) =>
    removed.filter(isCrd).flatMap((crd) => {
      const live = liveCrds.get(crd.metadata.name);
      if (!live) return [];
      return [
        {
          name: crd.metadata.name,
          release: release.name,
          namespace: release.namespace,
          inBundle: bundle.has(crd.metadata.name),
          kept: isKept(live as KubernetesObject),
        },
      ];
    }),
  );
}

/** Annotates each named CRD with the keep policy (only that annotation is written). */
export async function keepCrds(kube: Kube, names: string[]): Promise<void> {
  const limit = pLimit(4);
  await Promise.all(
    names.map((name) =>
      limit(() =>
        serverSideApply(
          kube,
          { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name, annotations: { [KEEP_ANNOTATION]: KEEP } } },
          { fieldManager: KEEP_FIELD_MANAGER },
        ),
      ),
    ),
  );
}
