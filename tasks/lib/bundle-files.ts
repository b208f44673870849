// Reads the rendered CRD bundle of a cluster (the render-crds target's output).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { BundleManifest, Crd } from './crd-bundle.ts';
import { isCrd } from './crd-bundle.ts';
import { BootstrapError } from './errors.ts';
// The bundle is machine-written and large (several MB): js-yaml parses it ~15x faster than
// `yaml`, whose richer documents are worth it for hand-written files only.
import { loadAll } from 'js-yaml';
import { bundleDir, relative } from './workspace.ts';

export interface Bundle {
  crds: Crd[];
  manifest: BundleManifest;
}

export async function loadBundle(cluster: string, dir = bundleDir(cluster)): Promise<Bundle> {
  const bundleFile = path.join(dir, 'crds.yaml');
  const manifestFile = path.join(dir, 'manifest.json');
  let text: string;
  let manifest: BundleManifest;
  try {
    [text, manifest] = await Promise.all([
      readFile(bundleFile, 'utf8'),
      readFile(manifestFile, 'utf8').then((t) => JSON.parse(t) as BundleManifest),
    ]);
  } catch (cause) {
    throw new BootstrapError({
      subject: relative(bundleFile),
      problem: 'the CRD bundle is missing or unreadable',
      fix: `render it first: nx run ${cluster}:render-crds`,
      cause,
    });
  }
  const crds = (loadAll(text) as KubernetesObject[]).filter((o) => o && isCrd(o)) as Crd[];
  return { crds, manifest };
}
