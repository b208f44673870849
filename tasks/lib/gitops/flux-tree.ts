// Reads a GitOps tree as Flux does: from the path the FluxInstance syncs, every
// kustomize.toolkit.fluxcd.io Kustomization it applies (and those they apply, and so on), each
// built with Flux's own library after its parent's patches and with its postBuild variables.
// Files no Kustomization reaches are never applied by Flux, so they are never judged.
import type { KubernetesObject } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BootstrapError } from '../runtime/errors.ts';
import { fluxBuild, type BuiltObject, type FluxBuildSource } from '../tools/flux-build.ts';
import { resolveSubstitutions, type VariableSources } from './flux-substitute.ts';
import { findYamlFiles } from '../runtime/manifests.ts';
import { parseValue } from '../runtime/yaml.ts';

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
  /** dependsOn[].readyExpr (Flux 2.7), by the dependency's namespace/name. */
  readyExprs?: Record<string, string>;
  /**
   * Dependencies whose readyExpr already holds before they are Ready, and which Flux checks instead
   * of Ready (AdditiveCELDependencyCheck off): set by ready-expr.ts, which evaluates them.
   */
  early?: string[];
  /** Ready only once everything it applied is healthy (spec.wait). */
  wait: boolean;
  /** Objects whose health it waits for without spec.wait: "kind namespace/name". */
  healthChecks: string[];
  /** The kinds spec.healthCheckExprs judges by CEL (kind empty: the whole group), read from `status` their controller sets. */
  healthCheckExprs?: Array<{ apiVersion: string; kind?: string }>;
  objects: BuiltObject[];
  /** kustomize's message when the build failed. */
  error?: string;
  /** substituteFrom sources nothing provides. */
  unresolved: string[];
  /** "Kind namespace/name" of a source other than the synced repository that has no local checkout: not built. */
  foreignSource?: string;
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
  /** Local checkouts (absolute) of other Flux sources, by "Kind/namespace/name". */
  otherSources?: Record<string, string>;
}

/** The source the FluxInstance syncs: flux-operator names it flux-system, in flux-system. */
const SYNCED_SOURCE = { namespace: 'flux-system', name: 'flux-system', kinds: ['GitRepository', 'OCIRepository'] };

/** "Kind/namespace/name" of a Kustomization's sourceRef, or undefined for the synced repository. */
export function otherSourceOf(object: FluxObject): string | undefined {
  const ref = object.spec?.['sourceRef'] as { kind?: string; name?: string; namespace?: string } | undefined;
  if (!ref?.name) return undefined;
  const namespace = ref.namespace ?? object.metadata?.namespace ?? 'default';
  if (SYNCED_SOURCE.kinds.includes(ref.kind ?? '') && ref.name === SYNCED_SOURCE.name && namespace === SYNCED_SOURCE.namespace) return undefined;
  return `${ref.kind ?? 'GitRepository'}/${namespace}/${ref.name}`;
}

type FluxObject = KubernetesObject & { spec?: Record<string, unknown> };

const isFluxKustomization = (o: KubernetesObject) => o.kind === 'Kustomization' && (o.apiVersion ?? '').startsWith(`${FLUX_KUSTOMIZATION}/`);

/** Flux builds a Kustomization at most this many levels below the entry here; deeper is a loop. */
const MAX_DEPTH = 12;

interface Pending {
  object: FluxObject;
  file: string;
  appliedBy?: string;
}

export async function readFluxTree(source: TreeSource): Promise<FluxTree> {
  const entry: FluxObject = {
    apiVersion: `${FLUX_KUSTOMIZATION}/v1`,
    kind: 'Kustomization',
    metadata: { name: 'flux-system', namespace: 'flux-system' },
    spec: { path: source.entry },
  };
  const found = new Map<string, FluxKustomization>();
  const definitions = new Map<string, FluxObject>();
  const find = (objects: BuiltObject[]): VariableSources['find'] => (kind, namespace, name) =>
    objects.find(({ object: o }) => o.kind === kind && o.apiVersion === 'v1' && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === namespace)?.object;
  const everything = () => [...found.values()].flatMap((k) => k.objects);

  /** Builds a wave of Kustomizations with the variables known now; returns the Kustomizations they apply. */
  const buildWave = async (wave: Pending[]): Promise<Pending[]> => {
    const sources: VariableSources = { find: find(everything()), prerequisiteKeys: source.prerequisiteKeys };
    const requests: Array<{ id: string; root: string; kustomization: Record<string, unknown> }> = [];
    for (const { object, file, appliedBy } of wave) {
      const kustomization = describe(object, file, appliedBy);
      found.set(kustomization.id, kustomization);
      definitions.set(kustomization.id, object);
      const other = otherSourceOf(object);
      const root = other ? source.otherSources?.[other] : source.root;
      if (!root) {
        kustomization.foreignSource = other!.replace('/', ' ');
        continue;
      }
      const resolved = resolveSubstitutions(object, sources);
      kustomization.unresolved = resolved.unresolved;
      requests.push({ id: kustomization.id, root, kustomization: resolved.object });
    }
    const next: Pending[] = [];
    for (const [root, builds] of groupBy(requests, (r) => r.root)) {
      const results = await fluxBuild({ ...source, root, folders: root === source.root ? source.folders : ['.'] }, builds);
      for (const { id } of builds) {
        const kustomization = found.get(id)!;
        const result = results.get(id)!;
        kustomization.objects = result.objects;
        if (result.error) kustomization.error = result.error;
        for (const { object, file } of result.objects) {
          if (!isFluxKustomization(object)) continue;
          const childId = idOf(object);
          if (!found.has(childId) && !next.some((n) => idOf(n.object) === childId)) next.push({ object, file, appliedBy: id });
        }
      }
    }
    return next;
  };

  const buildAll = async (first: Pending[]) => {
    let wave = first;
    for (let depth = 0; wave.length > 0; depth++) {
      if (depth > MAX_DEPTH) {
        throw new BootstrapError({
          subject: wave[0]!.file,
          problem: `Kustomizations apply Kustomizations more than ${MAX_DEPTH} levels deep`,
          fix: 'a Kustomization probably applies its own path: point spec.path at a folder that does not contain its ks.yaml',
        });
      }
      wave = await buildWave(wave);
    }
  };

  await buildAll([{ object: entry, file: `${source.entry} (synced by the FluxInstance)` }]);
  // A substituteFrom ConfigMap that a Kustomization's dependsOn creates exists by the time Flux
  // builds it, even when both were built in one wave here: build those again with it.
  const late = [...found.values()].filter((k) => k.unresolved.length > 0 && resolvesFromDependencies(k, found, find));
  if (late.length > 0) {
    for (const k of late) found.delete(k.id);
    await buildAll(late.map((k) => ({ object: definitions.get(k.id)!, file: k.file, appliedBy: k.appliedBy })));
  }
  const kustomizations = [...found.values()];
  return { kustomizations, files: await classifyFiles(source, kustomizations) };
}

/** Whether some unresolved reference of k is created by a Kustomization k depends on (transitively). */
function resolvesFromDependencies(k: FluxKustomization, all: Map<string, FluxKustomization>, find: (objects: BuiltObject[]) => VariableSources['find']): boolean {
  const seen = new Set<string>();
  const stack = [...k.dependsOn];
  const objects: BuiltObject[] = [];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || !all.has(id)) continue;
    seen.add(id);
    objects.push(...all.get(id)!.objects);
    stack.push(...all.get(id)!.dependsOn);
  }
  const lookup = find(objects);
  return k.unresolved.some((ref) => {
    const [, kind, name, namespace] = /^(\w+)\/(\S+) in (\S+)$/.exec(ref) ?? [];
    return !!kind && !!lookup(kind, namespace!, name!);
  });
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function idOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`;
}

function describe(object: FluxObject, file: string, appliedBy: string | undefined): FluxKustomization {
  const spec = object.spec ?? {};
  const namespace = object.metadata?.namespace ?? 'default';
  const entries = (spec['dependsOn'] ?? []) as Array<{ name: string; namespace?: string; readyExpr?: unknown }>;
  const dependsOn = entries.map((d) => `${d.namespace ?? namespace}/${d.name}`);
  const readyExprs = Object.fromEntries(entries.flatMap((d, i) => (typeof d.readyExpr === 'string' && d.readyExpr.trim() ? [[dependsOn[i]!, d.readyExpr]] : [])));
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
    ...(Object.keys(readyExprs).length ? { readyExprs } : {}),
    wait: spec['wait'] === true,
    healthChecks,
    ...(Array.isArray(spec['healthCheckExprs']) && spec['healthCheckExprs'].length
      ? { healthCheckExprs: (spec['healthCheckExprs'] as Array<{ apiVersion?: string; kind?: string }>).map((h) => ({ apiVersion: String(h.apiVersion ?? ''), ...(h.kind ? { kind: h.kind } : {}) })) }
      : {}),
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
