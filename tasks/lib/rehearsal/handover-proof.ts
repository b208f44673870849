// The hand-off proven in the rehearsal: each release core installed, as helm kept it after the
// bootstrap and again after Flux settled (revision, and a hash of the manifest), beside the audit's
// hand-off verdict (gitops/handover.ts). helm-controller upgrades every release it did not install
// itself on its first reconcile ("release not managed by controller", internal/reconcile/
// atomic_release.go), so the revision moves even for an unchanged hand-off; what the verdict
// predicts is whether the manifest does.
import { createHash } from 'node:crypto';
import type { ClusterTarget } from '../model/cluster-target.ts';
import { deployedManifest, deployedReleases } from '../tools/helm.ts';
import type { Handover } from '../gitops/handover.ts';
import { manifestChanges } from '../gitops/manifest-diff.ts';

export interface ReleaseState {
  revision: number;
  /** sha256 of the manifest helm deployed. */
  manifest: string;
}

/**
 * Every release helm lists, by <namespace>/<name>; with `only`, just those (after Flux, the core
 * releases: a helm process per release of a 73-release tree took 18 s of the rehearsal).
 */
export async function releaseStates(target: ClusterTarget, only?: Set<string>): Promise<Map<string, ReleaseState>> {
  const releases = (await deployedReleases(target)).filter((r) => !only || only.has(`${r.namespace}/${r.name}`));
  const states = await Promise.all(
    releases.map(async (r) => [`${r.namespace}/${r.name}`, { revision: Number(r.revision), manifest: createHash('sha256').update(await deployedManifest(target, r)).digest('hex') }] as const),
  );
  return new Map(states);
}

export interface HandoverProof {
  release: string;
  audit: Handover['verdict'];
  before?: number;
  after?: number;
  manifestChanged: boolean;
  /** Flux's doing and the audit's verdict say the same. */
  agreed: boolean;
  /** Why a difference is expected, or (with unjudged) why it is not judged. */
  note?: string;
  /** Not judged: the HelmRelease was not rehearsed, or the audit did not compare it. */
  unjudged?: true;
}

/**
 * Per core release: what Flux did to it against what the audit said it would. `unchanged`: same
 * manifest; `upgrade`, `crd-ownership`: Flux took it over, and its manifest changed exactly when the
 * audit's renders of both sides differ (without renders: when it changed, and values that render the
 * same manifest are said, not counted as agreement); `second-release`, `none`: Flux left core's
 * release alone. A release whose HelmRelease the rehearsal did not install is not judged.
 */
export function proveHandover(handover: Handover[], before: Map<string, ReleaseState>, after: Map<string, ReleaseState>, notRehearsed: Set<string>): HandoverProof[] {
  return handover.map((h): HandoverProof => {
    const [was, now] = [before.get(h.release), after.get(h.release)];
    const base = { release: h.release, audit: h.verdict, ...(was ? { before: was.revision } : {}), ...(now ? { after: now.revision } : {}), manifestChanged: !!was && !!now && was.manifest !== now.manifest };
    const tookOver = !!was && !!now && now.revision > was.revision;
    if (h.helmRelease && notRehearsed.has(h.helmRelease.id)) return { ...base, agreed: false, unjudged: true, note: `HelmRelease ${h.helmRelease.id} was not rehearsed` };
    switch (h.verdict) {
      case 'unchanged':
        return { ...base, agreed: tookOver && !base.manifestChanged };
      case 'upgrade':
      case 'crd-ownership':
        if (h.manifest) return { ...base, agreed: tookOver && base.manifestChanged === manifestChanges(h.manifest) > 0 };
        if (tookOver && !base.manifestChanged) return { ...base, agreed: false, note: 'the values differ, but the chart renders the same manifest (the audit compares values, not manifests)' };
        return { ...base, agreed: tookOver && base.manifestChanged };
      case 'second-release':
      case 'none':
        return { ...base, agreed: !!was && !!now && now.revision === was.revision };
      case 'not-compared':
        return { ...base, agreed: false, unjudged: true, note: `the audit did not compare it (${h.reason})` };
    }
  });
}

/** A hand-off Flux did otherwise than the audit said, with no reason to expect it. */
export const handoverDiffers = (p: HandoverProof): boolean => !p.agreed && !p.unjudged && !p.note;

export function formatHandoverProof(proofs: HandoverProof[]): string[] {
  return proofs.map((p) => {
    const revisions = p.before === undefined ? 'not installed by core' : `revision ${p.before} → ${p.after ?? 'gone'}`;
    const mark = p.agreed ? 'agreed  ' : p.unjudged ? 'unjudged' : p.note ? 'noted   ' : 'DIFFERS ';
    return `  ${mark} ${p.release}: audit ${p.audit}; Flux: ${revisions}, manifest ${p.manifestChanged ? 'changed' : 'unchanged'}${p.note ? ` (${p.note})` : ''}`;
  });
}
