// Builds Flux Kustomizations with Flux's own library (scripts/tools/flux-build, a Go helper over
// github.com/fluxcd/pkg/kustomize): the same kustomize generation, patches, components and
// postBuild substitution kustomize-controller applies. Offline; the user's tree is never written.
import type { KubernetesObject } from '@kubernetes/client-node';
import { availableParallelism } from 'node:os';
import { runTool } from './run-tool.ts';

export interface FluxBuildRequest {
  /** Any unique key; results come back under it. */
  id: string;
  /** The Flux Kustomization object, with substituteFrom already resolved into postBuild.substitute. */
  kustomization: Record<string, unknown>;
}

export interface BuiltObject {
  /** The file the object came from, relative to the repository root. */
  file: string;
  object: KubernetesObject;
}

export interface FluxBuildResult {
  id: string;
  objects: BuiltObject[];
  /** kustomize's own message when the build failed (a missing file, an invalid patch, …). */
  error?: string;
}

export interface FluxBuildSource {
  /** The repository root Flux sees (absolute). */
  root: string;
  /** Folders under the root that hold the tree: the helper copies only these. */
  folders: string[];
  cluster: string;
}

/**
 * Builds every request. Flux's library serializes builds in a process (kustomize is not safe to
 * run concurrently) and reloads kustomize's OpenAPI schema for each, so the requests are split
 * over one helper process per core.
 */
export async function fluxBuild(source: FluxBuildSource, builds: FluxBuildRequest[]): Promise<Map<string, FluxBuildResult>> {
  const processes = Math.min(availableParallelism(), Math.ceil(builds.length / 8));
  const chunks = Array.from({ length: processes }, (_, i) => builds.filter((_, j) => j % processes === i));
  const results = await Promise.all(chunks.map((chunk, i) => buildChunk(source, chunk, i)));
  return new Map(results.flatMap((r) => [...r]));
}

async function buildChunk(source: FluxBuildSource, builds: FluxBuildRequest[], index: number): Promise<Map<string, FluxBuildResult>> {
  const stdout = await runTool({
    tool: 'flux-build',
    args: [],
    input: JSON.stringify({ root: source.root, include: source.folders, builds }),
    cluster: source.cluster,
    logName: `flux-build-${index}`,
    subject: `GitOps tree ${source.root}`,
    fix: 'check that the folders named in gitops (cluster.yaml) exist and hold readable YAML',
  });
  const { results } = JSON.parse(stdout) as { results: Array<Omit<FluxBuildResult, 'objects'> & { objects: BuiltObject[] | null }> };
  return new Map(results.map((r) => [r.id, { ...r, objects: r.objects ?? [] }]));
}

/**
 * One object's CEL, as Flux reads it: spec.healthCheckExprs, or one spec.dependsOn[].readyExpr,
 * which may be evaluated with sets of variables (self, dep), as kustomize-controller does.
 */
export type CelCheck = { id: string } & ({ healthCheckExprs: unknown[] } | { readyExpr: string; evaluate?: Array<Record<string, unknown>> });

export interface CelResult {
  /** Flux's error: the expression does not parse or type-check. */
  error?: string;
  /** A readyExpr's value for each set of `evaluate` (an evaluation error is false, as Flux then retries). */
  values?: boolean[];
}

/**
 * Parses and type-checks CEL with Flux's own code (scripts/tools/flux-build/cel.go), as the
 * controllers do before they use it, and evaluates readyExprs where asked.
 */
export async function fluxCheckCel(cluster: string, checks: CelCheck[]): Promise<Map<string, CelResult>> {
  if (!checks.length) return new Map();
  const stdout = await runTool({
    tool: 'flux-build',
    args: [],
    input: JSON.stringify({ root: '/', include: [], builds: [], cel: checks }),
    cluster,
    logName: 'flux-build-cel',
    subject: 'the CEL expressions of the GitOps tree',
    fix: 'rebuild the flux-build helper (bash scripts/build-tools.sh flux-build)',
  });
  const { cel } = JSON.parse(stdout) as { cel: Array<CelResult & { id: string }> };
  return new Map(cel.map(({ id, ...result }) => [id, result]));
}
