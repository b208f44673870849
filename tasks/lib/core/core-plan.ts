// The plan of the core phase: which releases need a sync, and what each sync would delete.
// It renders helmfile.d/01-core and compares it with what helm deployed (helm get manifest).
import { deployedManifest, deployedReleases, type DeployedRelease } from '../tools/helm.ts';
import type { ClusterTarget } from '../model/cluster-target.ts';
import { parseManifests } from '../runtime/manifests.ts';
import { findDeployed, planRelease, type ReleasePlan } from './release-plan.ts';
import { renderState } from '../bundle/render.ts';
import { paths } from '../runtime/workspace.ts';

/** `deployed` is helm list's answer when the caller has it already. */
export async function planCore(target: ClusterTarget, deployed?: DeployedRelease[]): Promise<ReleasePlan[]> {
  const [{ releases, objects }, installed] = await Promise.all([
    renderState(target, paths.coreHelmfile, { includeCrds: false }),
    deployed ?? deployedReleases(target),
  ]);
  return Promise.all(
    releases.map(async (release) => {
      const current = findDeployed(release, installed);
      const live = current ? parseManifests(await deployedManifest(target, release), `helm release ${release.name}`) : [];
      return planRelease(release, current, objects.get(release.name) ?? [], live);
    }),
  );
}
