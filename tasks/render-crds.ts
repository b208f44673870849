// render-crds (cached): helmfile template --include-crds of helmfile.d/00-crds for the cluster's
// environment, keep only CustomResourceDefinitions, write a bundle and a manifest.
// A pure function of helmfile.d, the cluster's values and the tool versions: Nx caches it.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { bundleYaml, manifestEntry, selectCrds, type BundleManifest } from './lib/crd-bundle.ts';
import { listReleases, templateReleases } from './lib/helmfile.ts';
import { readManifests } from './lib/manifests.ts';
import { runPhase, type TaskContext } from './lib/task.ts';
import { bundleDir, paths, relative } from './lib/workspace.ts';

export async function renderCrds({ cluster, log, context }: TaskContext): Promise<BundleManifest> {
  const target = { cluster, context };
  const releases = (await listReleases(target, paths.crdsHelmfile)).filter((r) => r.enabled);
  log.action(`rendering ${releases.length} CRD releases for environment ${cluster.helmfile.environment}`);
  const scratch = await mkdtemp(path.join(os.tmpdir(), `render-crds-${cluster.name}-`));
  try {
    await templateReleases(target, paths.crdsHelmfile, scratch, { includeCrds: true });
    const rendered = new Map<string, KubernetesObject[]>();
    for (const release of releases) {
      const dir = path.join(scratch, release.name);
      rendered.set(release.name, existsSync(dir) ? (await readManifests([dir])).map((s) => s.object) : []);
    }
    const selected = selectCrds(rendered);
    const manifest: BundleManifest = {
      cluster: cluster.name,
      environment: cluster.helmfile.environment,
      crds: selected.map(({ crd, release }) => manifestEntry(crd, release)),
    };
    const out = bundleDir(cluster.name);
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'crds.yaml'), bundleYaml(selected.map((s) => s.crd)));
    await writeFile(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const release of releases) {
      const count = manifest.crds.filter((c) => c.release === release.name).length;
      log.success(`${release.name} ${release.version}: ${count} CRDs`);
    }
    const largest = [...manifest.crds].sort((a, b) => b.bytes - a.bytes)[0];
    log.success(
      `bundle ${relative(out)}: ${manifest.crds.length} CRDs` +
        (largest ? `, largest ${largest.name} (${Math.round(largest.bytes / 1024)} KiB)` : ''),
    );
    return manifest;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) await runPhase('render-crds', async (ctx) => void (await renderCrds(ctx)));
