// Clusters whose 00-crds inputs are identical share one render: the key is the render's inputs
// hash (renderInputsHash), which leaves the cluster's name out. The first cluster to
// render a key holds a lock while it renders; a cluster with the same key waits for it and copies
// the bundle (checked like any bundle) instead of rendering again.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadBundle, type Bundle } from './bundle-files.ts';
import type { ClusterConfig } from './config.ts';
import type { BundleManifest } from './crd-bundle.ts';
import { paths } from './workspace.ts';

/** Whether renders can be shared at all: not when 00-crds itself reads the environment's name. */
export async function renderSharable(): Promise<boolean> {
  return !(await readFile(paths.crdsHelmfile, 'utf8')).includes('.Environment.Name');
}

/** Another cluster's intact bundle rendered from the same key; undefined if there is none. */
export async function sharedBundle(cluster: ClusterConfig, key: string): Promise<{ from: string; bundle: Bundle } | undefined> {
  const dir = path.join(paths.dist, 'crds');
  const others = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory() && d.name !== cluster.name && !d.name.includes('.'));
  for (const other of others) {
    const manifest = await readFile(path.join(dir, other.name, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as BundleManifest).catch(() => undefined);
    if (manifest?.inputsSha256 !== key) continue;
    // A damaged bundle is not shared: this cluster renders its own instead.
    const bundle = await loadBundle(other.name).catch(() => undefined);
    if (bundle) return { from: other.name, bundle };
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `render` holding the key's lock (dist/crds/.render-<key>.lock, with the holder's PID).
 * If another process holds it, waits until it is released (or its holder is gone) first.
 */
export async function withRenderLock<T>(key: string, render: () => Promise<T>, onWait: (holder: string) => void): Promise<T> {
  const lock = path.join(paths.dist, 'crds', `.render-${key.slice(0, 16)}.lock`);
  let announced = false;
  for (;;) {
    try {
      await writeFile(lock, `${process.pid}`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        await mkdir(path.dirname(lock), { recursive: true });
        continue;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(lock, 'utf8').catch(() => '0'));
      if (holder && !alive(holder)) {
        await rm(lock, { force: true });
        continue;
      }
      if (!announced) onWait(String(holder));
      announced = true;
      await sleep(200);
    }
  }
  try {
    return await render();
  } finally {
    await rm(lock, { force: true });
  }
}
