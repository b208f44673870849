// The rehearsal's folder: its kwok cluster, controller logs and artifact storage. kwokctl runs the
// cluster's components as daemons, so a rehearsal that was killed (SIGKILL, a crash) would leave
// them running. The folder records who owns it; the next rehearsal deletes the cluster of every
// folder whose owner is gone, before it starts its own.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deleteKwokCluster } from '../cluster/kwok-cluster.ts';
import { holderState, selfIdentity, type ProcessIdentity } from '../runtime/process-identity.ts';

const PREFIX = 'rehearse-';
const OWNER = 'owner.json';

export interface RehearsalDir {
  dir: string;
  plane: { name: string; workdir: string; kubeconfig: string; logCluster: string };
}

export async function createRehearsalDir(clusterName: string): Promise<RehearsalDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${PREFIX}${clusterName}-`));
  await writeFile(path.join(dir, OWNER), JSON.stringify(selfIdentity()));
  return { dir, plane: planeOf(dir, clusterName) };
}

function planeOf(dir: string, clusterName: string): RehearsalDir['plane'] {
  return { name: `${path.basename(dir).toLowerCase().replace(/[^a-z0-9-]/g, '')}`, workdir: path.join(dir, 'kwok'), kubeconfig: path.join(dir, 'kubeconfig'), logCluster: clusterName };
}

/** Deletes the clusters and folders of rehearsals whose process is gone; returns what it removed. */
export async function sweepOrphanedRehearsals(clusterName: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(os.tmpdir()).catch(() => [])) {
    if (!entry.startsWith(`${PREFIX}${clusterName}-`)) continue;
    const dir = path.join(os.tmpdir(), entry);
    const owner = await readFile(path.join(dir, OWNER), 'utf8').then((t) => JSON.parse(t) as ProcessIdentity).catch(() => undefined);
    if (!owner || holderState(owner).state !== 'gone') continue;
    const plane = planeOf(dir, clusterName);
    if (existsSync(path.join(plane.workdir, 'clusters', plane.name))) await deleteKwokCluster(plane, `remove ${dir} by hand`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    removed.push(`${dir} (pid ${owner.pid})`);
  }
  return removed;
}
