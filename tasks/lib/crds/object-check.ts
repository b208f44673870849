// The API server judges the objects: before a CRD changes, every object of its kind (from the
// GitOps tree as Flux builds it, and the live cluster's, read-only) is dry-run created in a
// throwaway control plane that holds the new CRDs. No rule list is involved: list types, CEL
// rules, patterns, bounds and removed versions are judged by the same code that will judge them
// in the cluster.
import type { KubernetesObject } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { applyAll } from '../cluster/apply.ts';
import type { Crd } from '../model/crd-bundle.ts';
import { crdServingStates } from './crd-status.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { groupOf } from '../runtime/manifests.ts';
import { apiError, type Kube } from '../cluster/kube.ts';
import { startThrowawayApiserver } from '../cluster/throwaway-apiserver.ts';
import { waitUntilReady } from '../cluster/wait.ts';

export interface CandidateObject {
  /** Where it comes from: a file of the tree, or "live <namespace>/<name>". */
  origin: string;
  object: KubernetesObject;
}

export interface Rejection {
  origin: string;
  object: string;
  /** The CRD and the version that reject it. */
  crd: string;
  version: string;
  message: string;
}

export interface ObjectCheck {
  checked: number;
  rejected: Rejection[];
  seconds: number;
}

const versionOf = (apiVersion = '') => apiVersion.split('/').at(-1)!;

/** The CRD of the given set that defines the object's group and kind, if any. */
export function crdFor(object: KubernetesObject, crds: Crd[]): Crd | undefined {
  return crds.find((c) => c.spec.group === groupOf(object.apiVersion) && c.spec.names.kind === object.kind);
}

/** What a create sends: no server-set metadata, no status (a subresource, never written by users). */
export function asNewObject(object: KubernetesObject): KubernetesObject {
  const { uid: _u, resourceVersion: _r, managedFields: _m, creationTimestamp: _c, generation: _g, selfLink: _s, ...metadata } = object.metadata ?? {};
  const { status: _status, ...rest } = object as KubernetesObject & { status?: unknown };
  return { ...rest, metadata };
}

export async function checkObjects(crds: Crd[], candidates: CandidateObject[], timeoutMs: number): Promise<ObjectCheck> {
  const started = Date.now();
  const relevant = candidates.filter(({ object }) => crdFor(object, crds));
  if (relevant.length === 0) return { checked: 0, rejected: [], seconds: 0 };
  const throwaway = await startThrowawayApiserver();
  try {
    const kube = throwaway.kube;
    await applyAll(kube, crds);
    await waitUntilReady(
      crds.map((c) => c.metadata.name),
      async (pending) => crdServingStates(kube, crds.filter((c) => pending.includes(c.metadata.name))),
      { timeoutMs, what: 'the head CRDs in the throwaway API server to be served' },
    );
    const namespaces = [...new Set(relevant.map(({ object }) => object.metadata?.namespace).filter((n): n is string => !!n))];
    await applyAll(kube, namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
    const limit = pLimit(8);
    const rejected = (await Promise.all(relevant.map((candidate) => limit(() => judge(kube, candidate, crds))))).filter((r): r is Rejection => !!r);
    return { checked: relevant.length, rejected, seconds: (Date.now() - started) / 1000 };
  } finally {
    await throwaway.stop();
  }
}

async function judge(kube: Kube, { origin, object }: CandidateObject, crds: Crd[]): Promise<Rejection | undefined> {
  const crd = crdFor(object, crds)!;
  const version = versionOf(object.apiVersion);
  const name = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
  const served = crd.spec.versions.find((v) => v.name === version && v.served);
  if (!served) return { origin, object: name, crd: crd.metadata.name, version, message: `version ${version} is not served by the new CRD (served: ${crd.spec.versions.filter((v) => v.served).map((v) => v.name).join(', ')})` };
  try {
    await kube.objects.create(asNewObject(object), undefined, 'All');
    return undefined;
  } catch (cause) {
    const error = apiError(cause, name, 'dry-run create');
    const message = error instanceof BootstrapError ? error.problem.replace(/^dry-run create: /, '') : String(error);
    return { origin, object: name, crd: crd.metadata.name, version, message };
  }
}
