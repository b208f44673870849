// Reads the rendered CRD bundle of a cluster (the render-crds target's output).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest, Crd } from './crd-bundle.ts';
import { isCrd } from './crd-bundle.ts';
import { BootstrapError } from './errors.ts';
import { parseManifests } from './manifests.ts';
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
  const crds = parseManifests(text, relative(bundleFile)).filter(isCrd);
  return { crds, manifest };
}
