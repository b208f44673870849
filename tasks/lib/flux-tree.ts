// Reads a GitOps tree as Flux does: from the path the FluxInstance syncs, every
// kustomize.toolkit.fluxcd.io Kustomization it applies (and those they apply, and so on), each
// built with Flux's own library after its parent's patches and with its postBuild variables.
// Files no Kustomization reaches are never applied by Flux, so they are never judged.
import type { KubernetesObject } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BootstrapError } from './errors.ts';
import { fluxBuild, type BuiltObject, type FluxBuildSource } from './flux-build.ts';
import { resolveSubstitutions, type VariableSources } from './flux-substitute.ts';
import { findYamlFiles } from './manifests.ts';
import { parseValue } from './yaml.ts';

export const FLUX_KUSTOMIZATION = 'kustomize.toolkit.fluxcd.io';

export interface FluxKustomization {
  /** namespace/name */
  id: string;
  name: string;
  namespace: string;
  path: string;
  /** Where it is declared, relative to the repository root. */
  file: string;
  /** The Kustomization that applies it (none for the entry). */
  appliedBy?: string;
  /** namespace/name of each dependsOn entry. */
  dependsOn: string[];
  /** Ready only once everything it applied is healthy (spec.wait). */
  wait: boolean;
  /** Objects whose health it waits for without spec.wait: "kind namespace/name". */
  healthChecks: string[];
  objects: BuiltObject[];
  /** kustomize's message when the build failed. */
  error?: string;
  /** substituteFrom sources nothing provides. */
  unresolved: string[];
}

export interface TreeFiles {
  /** YAML files at least one Kustomization applies objects from. */
  applied: string[];
  /** kustomization.yaml files and files they read as data (configMapGenerator, configurations, patches). */
  buildInputs: string[];
  /** YAML files no Kustomization reaches: Flux never applies them. */
  unreferenced: string[];
}

export interface FluxTree {
  kustomizations: FluxKustomization[];
  files: TreeFiles;
}

export interface TreeSource extends FluxBuildSource {
  /** The path the FluxInstance syncs, relative to the root. */
  entry: string;
  prerequisiteKeys: VariableSources['prerequisiteKeys'];
}

type FluxObject = KubernetesObject & { spec?: Record<string, unknown> };

const isFluxKustomization = (o: KubernetesObject) => o.kind === 'Kustomization' && (o.apiVersion ?? '').startsWith(`${FLUX_KUSTOMIZATION}/`);

/** Flux builds a Kustomization at most this many levels below the entry here; deeper is a loop. */
const MAX_DEPTH = 12;

export async function readFluxTree(source: TreeSource): Promise<FluxTree> {
  const entry: FluxObject = {
    apiVersion: `${FLUX_KUSTOMIZATION}/v1`,
    kind: 'Kustomization',
    metadata: { name: 'flux-system', namespace: 'flux-system' },
    spec: { path: source.entry },
  };
  const found = new Map<string, FluxKustomization>();
  const built: BuiltObject[] = [];
  const sources: VariableSources = {
    find: (kind, namespace, name) =>
      built.find(({ object: o }) => o.kind === kind && o.apiVersion === 'v1' && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === namespace)?.object,
    prerequisiteKeys: source.prerequisiteKeys,
  };

  let wave: Array<{ object: FluxObject; file: string; appliedBy?: string }> = [{ object: entry, file: `${source.entry} (synced by the FluxInstance)` }];
  for (let depth = 0; wave.length > 0; depth++) {
    if (depth > MAX_DEPTH) {
      throw new BootstrapError({
        subject: wave[0]!.file,
        problem: `Kustomizations apply Kustomizations more than ${MAX_DEPTH} levels deep`,
        fix: 'a Kustomization probably applies its own path: point spec.path at a folder that does not contain its ks.yaml',
      });
    }
    const requests = wave.map(({ object, file, appliedBy }) => {
      const kustomization = describe(object, file, appliedBy);
      const resolved = resolveSubstitutions(object, sources);
      kustomization.unresolved = resolved.unresolved;
      found.set(kustomization.id, kustomization);
      return { id: kustomization.id, kustomization: resolved.object };
    });
    const results = await fluxBuild(source, requests);
    const next: typeof wave = [];
    for (const { id } of requests) {
      const kustomization = found.get(id)!;
      const result = results.get(id)!;
      kustomization.objects = result.objects;
      if (result.error) kustomization.error = result.error;
      built.push(...result.objects);
      for (const { object, file } of result.objects) {
        if (!isFluxKustomization(object)) continue;
        const childId = idOf(object);
        if (!found.has(childId) && !next.some((n) => idOf(n.object) === childId)) next.push({ object, file, appliedBy: id });
      }
    }
    wave = next;
  }
  const kustomizations = [...found.values()];
  return { kustomizations, files: await classifyFiles(source, kustomizations) };
}

function idOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`;
}

function describe(object: FluxObject, file: string, appliedBy: string | undefined): FluxKustomization {
  const spec = object.spec ?? {};
  const namespace = object.metadata?.namespace ?? 'default';
  const dependsOn = ((spec['dependsOn'] ?? []) as Array<{ name: string; namespace?: string }>).map((d) => `${d.namespace ?? namespace}/${d.name}`);
  const healthChecks = ((spec['healthChecks'] ?? []) as Array<{ kind: string; name: string; namespace?: string }>).map(
    (h) => `${h.kind} ${h.namespace ?? namespace}/${h.name}`,
  );
  return {
    id: idOf(object),
    name: object.metadata?.name ?? '',
    namespace,
    path: String(spec['path'] ?? ''),
    file,
    appliedBy,
    dependsOn,
    wait: spec['wait'] === true,
    healthChecks,
    objects: [],
    unresolved: [],
  };
}

const KUSTOMIZATION_FILE = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** Sorts every YAML file of the tree into applied, build input, or never reached. */
async function classifyFiles(source: FluxBuildSource, kustomizations: FluxKustomization[]): Promise<TreeFiles> {
  const all = (await findYamlFiles(source.folders.map((f) => path.join(source.root, f)))).map((f) => path.relative(source.root, f));
  const applied = new Set(kustomizations.flatMap((k) => k.objects.map((o) => path.normalize(o.file))));
  const buildInputs = new Set<string>();
  for (const file of all.filter((f) => KUSTOMIZATION_FILE.test(f))) {
    buildInputs.add(file);
    for (const input of await kustomizationInputs(path.join(source.root, file))) buildInputs.add(path.relative(source.root, input));
  }
  return {
    applied: all.filter((f) => applied.has(f)),
    buildInputs: all.filter((f) => buildInputs.has(f) && !applied.has(f)),
    unreferenced: all.filter((f) => !applied.has(f) && !buildInputs.has(f)),
  };
}

interface KustomizeFile {
  configMapGenerator?: Array<{ files?: string[]; envs?: string[] }>;
  secretGenerator?: Array<{ files?: string[]; envs?: string[] }>;
  configurations?: string[];
  patches?: Array<{ path?: string }>;
}

/** The files a kustomization.yaml reads as data rather than as resources. */
async function kustomizationInputs(file: string): Promise<string[]> {
  let spec: KustomizeFile;
  try {
    spec = parseValue<KustomizeFile>(await readFile(file, 'utf8')) ?? {};
  } catch {
    return []; // the build reports an invalid kustomization.yaml with kustomize's own message
  }
  const dir = path.dirname(file);
  const generated = [...(spec.configMapGenerator ?? []), ...(spec.secretGenerator ?? [])].flatMap((g) => [...(g.files ?? []), ...(g.envs ?? [])]);
  const named = [...generated.map((f) => f.split('=').at(-1)!), ...(spec.configurations ?? []), ...(spec.patches ?? []).flatMap((p) => (p.path ? [p.path] : []))];
  return named.map((f) => path.resolve(dir, f));
}
