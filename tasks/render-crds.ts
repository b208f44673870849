// render-crds (cached): helmfile template --include-crds of helmfile.d/00-crds for the cluster's
// environment, keep only CustomResourceDefinitions, write a bundle (YAML for people and kubectl,
// JSON for the engine) and a manifest.
// A pure function of helmfile.d, the cluster's values and the tool versions: Nx caches it. A
// cluster whose 00-crds inputs are another's reuses that render (render-share.ts).
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleYaml, manifestEntry, selectCrds, stampSource, type BundleManifest } from './lib/model/crd-bundle.ts';
import { sha256 } from './lib/runtime/input-hash.ts';
import { renderInputsHash } from './lib/bundle/bundle-files.ts';
import { renderSharable, sharedBundle, withRenderLock } from './lib/bundle/render-share.ts';
import { renderState } from './lib/bundle/render.ts';
import { assertOnePinPerChart } from './lib/tools/chart-pins.ts';
import { phaseTarget, type TaskContext } from './lib/runner/task.ts';
import { bundleDir, paths, relative } from './lib/runtime/workspace.ts';

interface BundleText {
  yaml: string;
  json: string;
}

/** Written aside, then swapped in: a reader (plan, crds) or an interrupted render never sees half a bundle. */
async function writeBundle(clusterName: string, files: BundleText, manifest: BundleManifest): Promise<string> {
  const out = bundleDir(clusterName);
  const staging = `${out}.rendering-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, 'crds.yaml'), files.yaml);
  await writeFile(path.join(staging, 'crds.json'), files.json);
  await writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(out, { recursive: true, force: true });
  await rename(staging, out);
  return out;
}

async function render({ cluster, log, context }: TaskContext, inputsSha256: string): Promise<BundleManifest> {
  log.action(`rendering helmfile.d/00-crds for environment ${cluster.helmfile.environment}`);
  const { releases, objects } = await renderState({ cluster, context }, paths.crdsHelmfile, { includeCrds: true });
  const versions = new Map(releases.map((r) => [r.name, r.version]));
  const selected = selectCrds(objects).map(({ crd, release }) => ({ crd: stampSource(crd, release, versions.get(release) ?? ''), release }));
  const crds = selected.map((s) => s.crd);
  const files = { yaml: bundleYaml(crds), json: JSON.stringify(crds) };
  const manifest: BundleManifest = {
    cluster: cluster.name,
    environment: cluster.helmfile.environment,
    count: selected.length,
    inputsSha256,
    fileSha256: { yaml: sha256(files.yaml), json: sha256(files.json) },
    crds: selected.map(({ crd, release }) => manifestEntry(crd, release)),
  };
  await writeBundle(cluster.name, files, manifest);
  for (const release of releases) {
    const count = manifest.crds.filter((c) => c.release === release.name).length;
    log.success(`${release.name} ${release.version}: ${count} CRDs`);
  }
  return manifest;
}

/** The other cluster's bundle, byte for byte, under this cluster's manifest. */
async function reuse({ cluster, log }: TaskContext, from: string, source: BundleManifest): Promise<BundleManifest> {
  const [yaml, json] = await Promise.all(['crds.yaml', 'crds.json'].map((file) => readFile(path.join(bundleDir(from), file), 'utf8')));
  const manifest: BundleManifest = {
    ...source,
    cluster: cluster.name,
    environment: cluster.helmfile.environment,
    reusedFrom: from,
  };
  await writeBundle(cluster.name, { yaml: yaml!, json: json! }, manifest);
  log.success(`reused the render of ${from}: the same helmfile.d, values, registry mirror and tool versions`);
  return manifest;
}

export async function renderCrds(ctx: TaskContext): Promise<BundleManifest> {
  // A CRD bundle of one version under a controller of another is refused before it is rendered.
  const [inputsSha256, sharable] = await Promise.all([renderInputsHash(ctx.cluster), renderSharable(), assertOnePinPerChart(ctx)]);
  if (!sharable) return summarize(ctx, await render(ctx, inputsSha256));
  const renderOrReuse = async () => {
    const shared = await sharedBundle(ctx.cluster, inputsSha256);
    return shared ? reuse(ctx, shared.from, shared.bundle.manifest) : render(ctx, inputsSha256);
  };
  return summarize(
    ctx,
    await withRenderLock(inputsSha256, renderOrReuse, {
      timeoutMs: ctx.timeoutMs,
      onWait: (holder) => ctx.log.waiting(`another render of the same inputs is running (${holder}): waiting up to ${ctx.timeoutMs / 1000}s to reuse it`),
      onTakeover: (holder, why) => ctx.log.warning(`took over the render lock of ${holder}: ${why}`),
    }),
  );
}

function summarize(ctx: TaskContext, manifest: BundleManifest): BundleManifest {
  const largest = [...manifest.crds].sort((a, b) => b.bytes - a.bytes)[0];
  ctx.log.success(
    `bundle ${relative(bundleDir(ctx.cluster.name))}: ${manifest.crds.length} CRDs` + (largest ? `, largest ${largest.name} (${Math.round(largest.bytes / 1024)} KiB)` : ''),
  );
  return manifest;
}

export const target = phaseTarget('render-crds', async (ctx) => void (await renderCrds(ctx)));

if (import.meta.main) await target.cli();
