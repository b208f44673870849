// Clusters whose 00-crds inputs are identical share one render: the key is the render's inputs
// hash (renderInputsHash), which leaves the cluster's name out. The first cluster to
// render a key holds a lock while it renders; a cluster with the same key waits for it and copies
// the bundle (checked like any bundle) instead of rendering again.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadBundle, type Bundle } from './bundle-files.ts';
import type { ClusterConfig } from '../model/config.ts';
import type { BundleManifest } from '../model/crd-bundle.ts';
import { withFileLock, type FileLockOptions } from '../runtime/file-lock.ts';
import { paths } from '../runtime/workspace.ts';

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

/** The lock a render of `key` holds while it renders (dist/crds/.render-<key>.lock). */
export function renderLockFile(key: string): string {
  return path.join(paths.dist, 'crds', `.render-${key.slice(0, 16)}.lock`);
}

/**
 * Runs `render` holding the key's lock. If another live process holds it, waits until it is
 * released, up to `timeoutMs`; a holder that is gone (or whose PID was reused) is taken over.
 */
export async function withRenderLock<T>(key: string, render: () => Promise<T>, options: Omit<FileLockOptions, 'what'>): Promise<T> {
  return withFileLock(renderLockFile(key), render, { ...options, what: 'the render of these 00-crds inputs' });
}
