// core: install the core releases (helmfile.d/01-core) with every chart's CRD installation off,
// syncing only the releases whose chart or rendered manifests differ from what is deployed.
import { deployedManifest, deployedReleases } from './lib/helm.ts';
import { syncReleases, type HelmTarget } from './lib/helmfile.ts';
import { guardIdentity } from './lib/identity.ts';
import { parseManifests } from './lib/manifests.ts';
import { findDeployed, planRelease, type ReleasePlan } from './lib/release-plan.ts';
import { renderState } from './lib/render.ts';
import { runPhase, type TaskContext } from './lib/task.ts';
import { paths } from './lib/workspace.ts';

export async function planCore(target: HelmTarget): Promise<ReleasePlan[]> {
  const [{ releases, objects }, deployed] = await Promise.all([
    renderState(target, paths.coreHelmfile, { includeCrds: false }),
    deployedReleases(target),
  ]);
  return Promise.all(
    releases.map(async (release) => {
      const current = findDeployed(release, deployed);
      const live = current ? parseManifests(await deployedManifest(target, release), `helm release ${release.name}`) : [];
      return planRelease(release, current, objects.get(release.name) ?? [], live);
    }),
  );
}

export async function installCore({ cluster, context, log, kube, options }: TaskContext): Promise<void> {
  await guardIdentity(kube(), cluster);
  const target = { cluster, context };
  const plan = await planCore(target);
  for (const { release, action, reason } of plan) {
    (action === 'up to date' ? log.info : log.action)(`${release.namespace}/${release.name}: ${action} (${reason})`);
  }
  const toSync = plan.filter((p) => p.action !== 'up to date').map((p) => p.release.name);
  if (toSync.length === 0) {
    log.success(`all ${plan.length} core releases are up to date`);
    return;
  }
  log.action(`helmfile sync of ${toSync.join(', ')} (CRDs skipped: the crds phase owns them)`);
  await syncReleases(target, paths.coreHelmfile, toSync, log, options.timeout);
  log.success(`core releases synced: ${toSync.join(', ')}`);
}

if (import.meta.main) await runPhase('core', installCore);
