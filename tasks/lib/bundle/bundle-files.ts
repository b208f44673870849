// The rendered CRD bundle of a cluster on disk (the render-crds target's output): crds.yaml, its
// JSON copy crds.json and manifest.json. Loading never trusts it: every CRD's content is hashed again and compared with
// the hash it carries and the one the manifest recorded, and the count is checked, so a bundle
// edited by hand, cut short or damaged is refused (exit 2) before anything reaches a cluster.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterConfig } from '../model/config.ts';
import type { BundleManifest, Crd } from '../model/crd-bundle.ts';
import { contentHash, HASH_ANNOTATION, isCrd } from '../model/crd-bundle.ts';
import { sha256 } from '../runtime/input-hash.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { helmfileInputsHash } from '../tools/helmfile-inputs.ts';
import { bundleDir, relative } from '../runtime/workspace.ts';
import { loadMachineWritten, YAMLException } from '../runtime/yaml.ts';

export interface Bundle {
  crds: Crd[];
  manifest: BundleManifest;
}

/** Bundle errors are input errors, like a bad option: exit 2, whatever the phase. */
const INTEGRITY_EXIT = 2;

function refuse(subject: string, problem: string, clusterName: string): BootstrapError {
  return new BootstrapError({
    subject,
    problem,
    fix: `render it again (nothing was applied): nx run ${clusterName}:render-crds --skip-nx-cache`,
    exitCode: INTEGRITY_EXIT,
  });
}

function parseBundle(text: string, file: string, clusterName: string): Crd[] {
  let documents: unknown[];
  try {
    documents = loadMachineWritten(text);
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    throw refuse(`${relative(file)}${error.mark ? `:${error.mark.line + 1}` : ""}`, `invalid YAML: ${error.reason}`, clusterName);
  }
  return documents.filter((o): o is Crd => o !== null && typeof o === 'object' && isCrd(o as KubernetesObject));
}

/** Recomputes every CRD's hash and the count, against what the CRD and manifest.json recorded. */
export function checkIntegrity({ crds, manifest }: Bundle, file: string, clusterName: string): void {
  if (crds.length === 0) throw refuse(relative(file), 'the bundle holds no CustomResourceDefinition', clusterName);
  const recordedCount = manifest.count ?? manifest.crds.length;
  if (crds.length !== recordedCount || manifest.crds.length !== recordedCount) {
    throw refuse(relative(file), `holds ${crds.length} CRDs, but manifest.json records ${recordedCount}`, clusterName);
  }
  const recorded = new Map(manifest.crds.map((entry) => [entry.name, entry.sha256]));
  for (const crd of crds) {
    const { [HASH_ANNOTATION]: carried, ...annotations } = crd.metadata.annotations ?? {};
    const actual = contentHash({ ...crd, metadata: { ...crd.metadata, annotations } });
    if (carried !== actual || recorded.get(crd.metadata.name) !== actual) {
      throw refuse(
        `CRD ${crd.metadata.name} in ${relative(file)}`,
        'its content does not match the sha256 it was rendered with: the bundle was edited or damaged',
        clusterName,
      );
    }
  }
}

/**
 * The CRDs from crds.json, when both files are byte for byte what the render wrote; undefined
 * otherwise (an older bundle, or one edited by hand): the YAML is then parsed and checked per CRD,
 * so an edit is refused naming the CRD, as before.
 */
async function readJsonCopy(dir: string, yamlText: string, manifest: BundleManifest): Promise<Crd[] | undefined> {
  if (!manifest.fileSha256 || sha256(yamlText) !== manifest.fileSha256.yaml) return undefined;
  const json = await readFile(path.join(dir, 'crds.json'), 'utf8').catch(() => undefined);
  if (json === undefined || sha256(json) !== manifest.fileSha256.json) return undefined;
  return JSON.parse(json) as Crd[];
}

export async function loadBundle(clusterName: string, dir = bundleDir(clusterName)): Promise<Bundle> {
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
      fix: `render it first: nx run ${clusterName}:render-crds`,
      cause,
    });
  }
  const bundle = { crds: (await readJsonCopy(dir, text, manifest)) ?? parseBundle(text, bundleFile, clusterName), manifest };
  checkIntegrity(bundle, bundleFile, clusterName);
  return bundle;
}

/**
 * What a render of 00-crds reads besides the engine (tools/helmfile-inputs.ts). Recorded in
 * manifest.json; a bundle whose inputs changed since is stale, and clusters with the same hash can
 * share one render (render-share.ts).
 */
export const renderInputsHash = (cluster: ClusterConfig): Promise<string> => helmfileInputsHash(cluster);

/** Refuses a bundle rendered from other inputs than the ones in the tree (e.g. crds run alone after a chart bump). */
export async function checkFresh({ manifest }: Bundle, cluster: ClusterConfig): Promise<void> {
  if (manifest.inputsSha256 === undefined) return;
  if (manifest.inputsSha256 !== (await renderInputsHash(cluster))) {
    throw new BootstrapError({
      subject: relative(path.join(bundleDir(cluster.name), 'manifest.json')),
      problem: 'the bundle was rendered from other inputs than the ones in the tree (helmfile.d, values.yaml or tool versions changed since)',
      fix: `render it again: nx run ${cluster.name}:render-crds (or run nx run ${cluster.name}:crds without --exclude-task-dependencies)`,
      exitCode: INTEGRITY_EXIT,
    });
  }
}
