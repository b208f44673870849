// migrate-storage: before crds applies a bundle that drops a version still listed in a CRD's
// status.storedVersions, rewrite every object of that CRD in its storage version, then prune
// status.storedVersions. Resumable; nothing is deleted. Then run crds.
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { listCrds } from './lib/cluster/kube.ts';
import { migrateObjects, migrationsNeeded, pruneStoredVersions } from './lib/crds/storage-migration.ts';
import { phaseTarget, type TaskContext } from './lib/runner/task.ts';

export async function migrateStorage({ cluster, kube, log }: TaskContext): Promise<void> {
  const client = kube();
  const bundle = await loadBundle(cluster.name);
  const live = await listCrds(client);
  const needs = migrationsNeeded(bundle.crds, live);
  if (needs.length === 0) {
    log.success('no CRD of the bundle drops a stored version: nothing to migrate');
    return;
  }
  for (const need of needs) {
    log.info(`${need.crd}: status.storedVersions [${need.storedVersions.join(', ')}], the bundle drops ${need.dropped.join(', ')}: rewriting every object in ${need.storageVersion}`);
    const count = await migrateObjects(client, cluster.name, live.get(need.crd)!, need, log);
    await pruneStoredVersions(client, cluster.name, need);
    log.success(`${need.crd}: ${count} objects rewritten in ${need.storageVersion}; status.storedVersions [${need.storedVersions.join(', ')}] → [${need.storageVersion}]`);
  }
  log.info(`now apply the bundle: nx run ${cluster.name}:crds`);
}

export const target = phaseTarget('migrate-storage', migrateStorage);

if (import.meta.main) await target.cli();
