// What the FluxInstance the bootstrap installs syncs, read from core's own render before any
// cluster exists, and checked against the tree: flux-operator creates one source and one root
// Kustomization from `.spec.sync`, and the tree's Kustomizations must name that source. A
// mismatch here is the same mistake on a real cluster (Flux reconciles the root and nothing else).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterConfig } from '../model/config.ts';
import type { FluxKustomization } from '../gitops/flux-tree.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { relative } from '../runtime/workspace.ts';

/** The sync kinds the rehearsal serves on loopback: git over smart HTTP, OCI artifacts. */
export const SERVED_SYNC_KINDS = ['GitRepository', 'OCIRepository'] as const;

export interface FluxSync {
  /** namespace/name of the FluxInstance, and the helmfile release that renders it. */
  instance: string;
  release: string;
  kind: string;
  /** flux-operator names the source and the root Kustomization sync.name, else the FluxInstance's namespace. */
  name: string;
  namespace: string;
  url: string;
  ref: string;
  path: string;
  interval: string;
  /** spec.kustomize.patches: flux-operator applies them to Flux's manifests (controller flags among them). */
  patches: Array<{ patch?: string; target?: { kind?: string; name?: string } }>;
}

type FluxInstance = KubernetesObject & { spec?: { sync?: Partial<Record<'kind' | 'name' | 'url' | 'ref' | 'path' | 'interval', string>>; kustomize?: { patches?: FluxSync['patches'] } } };

const normalPath = (p: string) => p.replace(/^\.\//, '').replace(/\/+$/, '');

/**
 * The one FluxInstance among core's rendered releases, and its sync. `stateFile` names where to
 * fix it. Refused (exit 2): no FluxInstance, no sync, a kind the rehearsal cannot serve, a path
 * other than gitops.entry.
 */
export function declaredSync(rendered: Map<string, KubernetesObject[]>, releaseNamespaces: Map<string, string>, cluster: ClusterConfig, stateFile: string): FluxSync {
  const found = [...rendered].flatMap(([release, objects]) => objects.filter((o) => o.kind === 'FluxInstance').map((o) => ({ release, object: o as FluxInstance })));
  const where = relative(stateFile);
  // A report task ends with exit 2 on an error: the rehearsal could not run.
  const refuse = (subject: string, problem: string, fix: string) => new BootstrapError({ subject, problem, fix });
  if (found.length !== 1) {
    throw refuse(where, found.length ? `renders ${found.length} FluxInstances (flux-operator reconciles one per cluster)` : 'renders no FluxInstance: nothing on the cluster would sync the tree', 'install exactly one FluxInstance in core (the flux-instance chart), with instance.sync set');
  }
  const { release, object } = found[0]!;
  const namespace = object.metadata?.namespace ?? releaseNamespaces.get(release) ?? 'flux-system';
  const instance = `${namespace}/${object.metadata?.name}`;
  const subject = `FluxInstance ${instance} (release ${release} in ${where})`;
  const sync = object.spec?.sync;
  if (!sync?.kind || !sync.url || !sync.path) {
    throw refuse(subject, 'has no spec.sync (kind, url, ref, path): flux-operator would create no source, and Flux would reconcile nothing', 'set instance.sync in the values of the flux-instance release: kind, url, ref and path (the path is gitops.entry)');
  }
  if (!(SERVED_SYNC_KINDS as readonly string[]).includes(sync.kind)) {
    throw refuse(subject, `syncs a ${sync.kind}: the rehearsal serves the tree as a GitRepository (git over HTTP) or an OCIRepository, not as a ${sync.kind}`, `rehearse a copy whose FluxInstance syncs a GitRepository or an OCIRepository; the audit (nx run ${cluster.name}:audit) still judges this tree`);
  }
  const entry = cluster.gitops?.entry ?? '';
  if (normalPath(sync.path) !== normalPath(entry)) {
    throw refuse(subject, `syncs path ${sync.path}, but ${relative(cluster.file)} says gitops.entry: ${entry}`, 'make them agree: gitops.entry is the path the FluxInstance syncs');
  }
  return { instance, release, kind: sync.kind, name: sync.name || namespace, namespace, url: sync.url, ref: sync.ref ?? '', path: normalPath(sync.path), interval: sync.interval ?? '1m', patches: object.spec?.kustomize?.patches ?? [] };
}

type SourceRef = { kind?: string; name?: string; namespace?: string };

/** Each Kustomization's sourceRef, read from the object its parent applies. */
function sourceRefs(kustomizations: FluxKustomization[]): Array<{ kustomization: FluxKustomization; ref: Required<SourceRef> }> {
  const byId = new Map(kustomizations.map((k) => [k.id, k]));
  const refs: Array<{ kustomization: FluxKustomization; ref: Required<SourceRef> }> = [];
  for (const k of kustomizations) {
    const parent = k.appliedBy ? byId.get(k.appliedBy) : undefined;
    const object = parent?.objects.find(({ object: o }) => o.kind === 'Kustomization' && o.metadata?.name === k.name && (o.metadata?.namespace ?? parent.namespace) === k.namespace)?.object as
      | (KubernetesObject & { spec?: { sourceRef?: SourceRef } })
      | undefined;
    const ref = object?.spec?.sourceRef;
    if (ref?.name) refs.push({ kustomization: k, ref: { kind: ref.kind ?? 'GitRepository', name: ref.name, namespace: ref.namespace ?? k.namespace } });
  }
  return refs;
}

/**
 * Kustomizations that name the synced source by its name and namespace but another kind: on a
 * cluster they fail with "<Kind> … not found" and nothing below them is applied.
 */
export function syncMismatches(sync: FluxSync, kustomizations: FluxKustomization[]): string[] {
  return sourceRefs(kustomizations)
    .filter(({ ref }) => ref.name === sync.name && ref.namespace === sync.namespace && ref.kind !== sync.kind)
    .map(({ kustomization, ref }) => `Kustomization ${kustomization.id} (${kustomization.file}) names ${ref.kind} ${ref.namespace}/${ref.name}, but the FluxInstance ${sync.instance} creates ${sync.kind} ${sync.namespace}/${sync.name}`);
}

/** Refuses the rehearsal (exit 2, before any cluster) when the tree and the FluxInstance disagree on the synced source. */
export function checkSyncAgrees(sync: FluxSync, kustomizations: FluxKustomization[], stateFile: string): void {
  const mismatches = syncMismatches(sync, kustomizations);
  if (mismatches.length === 0) return;
  throw new BootstrapError({
    subject: `the synced source (release ${sync.release} in ${relative(stateFile)})`,
    problem: `the tree names another source than the one the bootstrap's FluxInstance syncs:\n${mismatches.map((m) => `    ${m}`).join('\n')}`,
    fix: `make them agree: either instance.sync.kind (and name) in the flux-instance values, or every sourceRef of the tree (kind: ${sync.kind}, name: ${sync.name})`,
  });
}
