// Stored versions are migrated, not just refused. Before a CRD drops a version that
// status.storedVersions still lists, every object is read and written back unchanged: the API
// server stores it again, in the current storage version. Then status.storedVersions is pruned,
// and the CRD phase may apply. (kube-storage-version-migrator leaves that last step to users.)
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LiveCrd } from '../model/crd-bundle.ts';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Crd } from '../model/crd-bundle.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { duringWrite, interruption } from '../runtime/interrupt.ts';
import { apiError, listObjects, type Kube } from '../cluster/kube.ts';
import type { Logger } from '../runtime/log.ts';
import { paths } from '../runtime/workspace.ts';

export interface MigrationNeed {
  crd: string;
  /** Versions status.storedVersions lists that the bundle's CRD no longer has. */
  dropped: string[];
  storageVersion: string;
  storedVersions: string[];
}

/** CRDs whose live storedVersions list a version the bundle drops. Pure. */
export function migrationsNeeded(bundle: Crd[], live: Map<string, LiveCrd>): MigrationNeed[] {
  const needs: MigrationNeed[] = [];
  for (const crd of bundle) {
    const current = live.get(crd.metadata.name);
    const stored = current?.status?.storedVersions ?? [];
    const kept = new Set(crd.spec.versions.map((v) => v.name));
    const dropped = stored.filter((v) => !kept.has(v));
    if (!current || dropped.length === 0) continue;
    const storageVersion = current.spec.versions.find((v) => v.storage)!.name;
    if (!kept.has(storageVersion)) {
      throw new BootstrapError({
        subject: `CRD ${crd.metadata.name}`,
        problem: `its live storage version ${storageVersion} is itself dropped by the bundle: rewriting objects would store them in a version about to go`,
        fix: 'apply an intermediate chart version first whose storage version the bundle keeps (upgrade one chart release at a time)',
      });
    }
    needs.push({ crd: crd.metadata.name, dropped, storageVersion, storedVersions: stored });
  }
  return needs;
}

const progressFile = (clusterName: string, crd: string) => path.join(paths.logs, clusterName, `migrate-storage-${crd}.json`);

/** Rewrites every object of one CRD in its storage version; resumable: objects done are recorded. */
export async function migrateObjects(kube: Kube, clusterName: string, live: LiveCrd, need: MigrationNeed, log: Logger): Promise<number> {
  const { group, names } = live.spec;
  const file = progressFile(clusterName, need.crd);
  const done = new Set<string>(JSON.parse(await readFile(file, 'utf8').catch(() => '[]')) as string[]);
  if (done.size) log.info(`${need.crd}: resuming, ${done.size} objects already rewritten`);
  await mkdir(path.dirname(file), { recursive: true });
  const objects = await listObjects(kube, `${group}/${need.storageVersion}`, names.kind);
  let rewritten = 0;
  for (const object of objects) {
    const uid = object.metadata?.uid ?? '';
    if (done.has(uid)) continue;
    if (interruption()) throw new BootstrapError({ subject: need.crd, problem: `interrupted after ${done.size} of ${objects.length} objects`, fix: 'rerun migrate-storage: it resumes where it stopped' });
    await rewrite(kube, object);
    done.add(uid);
    rewritten++;
    if (rewritten % 50 === 0) {
      await writeFile(file, JSON.stringify([...done]));
      log.info(`${need.crd}: ${done.size}/${objects.length} rewritten`);
    }
  }
  await writeFile(file, JSON.stringify([...done]));
  return objects.length;
}

/** A write of the object as read: the API server stores it again in the storage version. */
async function rewrite(kube: Kube, object: KubernetesObject): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await duringWrite(() => kube.objects.replace(object));
      return;
    } catch (cause) {
      // Someone else wrote it meanwhile: their write stored it in the storage version already,
      // but read it again and write it back to be sure.
      if ((cause as { code?: number }).code === 409 && attempt < 5) {
        object = await kube.objects.read(object as Parameters<Kube['objects']['read']>[0]);
        continue;
      }
      throw apiError(cause, `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`, 'rewrite failed');
    }
  }
}

/** Leaves only the storage version in status.storedVersions, once every object is rewritten. */
export async function pruneStoredVersions(kube: Kube, clusterName: string, need: MigrationNeed): Promise<void> {
  const current = await kube.apiextensions.readCustomResourceDefinition({ name: need.crd });
  current.status = { ...current.status!, storedVersions: [need.storageVersion] };
  try {
    await kube.apiextensions.replaceCustomResourceDefinitionStatus({ name: need.crd, body: current });
  } catch (cause) {
    throw apiError(cause, `CRD ${need.crd}`, 'pruning status.storedVersions failed');
  }
  await rm(progressFile(clusterName, need.crd), { force: true });
}
