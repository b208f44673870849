// Applies objects server-side and says what happened to each: created, configured or unchanged.
// "Would this change anything" is answered by the API server: a server-side dry-run compared with
// the live object. An unchanged object is not written at all (even a no-op apply can bump
// resourceVersion once, when the server records managed fields for defaulted values).
import { isDeepStrictEqual } from 'node:util';
import pLimit from 'p-limit';
import type { KubernetesObject } from '@kubernetes/client-node';
import { STORED_HASH_ANNOTATION } from '../model/crd-bundle.ts';
import { describe, readObject, serverSideApply, toClientObject, type Kube } from './kube.ts';


export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  object: KubernetesObject;
  outcome: ApplyOutcome;
}

/** What the user controls: everything but server bookkeeping and status. */
function desiredView(object: KubernetesObject): unknown {
  const { status: _status, metadata = {}, ...rest } = object as KubernetesObject & { status?: unknown };
  const { managedFields: _m, resourceVersion: _r, generation: _g, creationTimestamp: _c, uid: _u, selfLink: _s, ...meta } = metadata;
  // The stored-spec hash is bookkeeping the crds phase adds when it writes; a dry-run of the
  // bundle object does not carry it.
  const { [STORED_HASH_ANNOTATION]: _h, ...annotations } = meta.annotations ?? {};
  return { ...rest, metadata: { ...meta, annotations } };
}

/** Whether applying would change what the API server stores, judged from a dry-run result. */
export function wouldChange(live: KubernetesObject, dryRun: KubernetesObject): boolean {
  return !isDeepStrictEqual(desiredView(live), desiredView(dryRun));
}

export async function applyOne(kube: Kube, object: KubernetesObject): Promise<ApplyResult> {
  const wanted = toClientObject(object);
  const live = await readObject(kube, object);
  if (live && !wouldChange(live, await serverSideApply(kube, wanted, { dryRun: true }))) {
    return { object: live, outcome: 'unchanged' };
  }
  const applied = await serverSideApply(kube, wanted);
  return { object: applied, outcome: live ? 'configured' : 'created' };
}

/** Applies with bounded parallelism; stops at the first failure (fail fast while changing the cluster). */
export async function applyAll(kube: Kube, objects: KubernetesObject[], concurrency = 4): Promise<ApplyResult[]> {
  const limit = pLimit(concurrency);
  return Promise.all(objects.map((object) => limit(() => applyOne(kube, object))));
}

export function summarize(results: ApplyResult[]): string {
  const count = (outcome: ApplyOutcome) => results.filter((r) => r.outcome === outcome).length;
  return `${count('created')} created, ${count('configured')} configured, ${count('unchanged')} unchanged`;
}

export function outcomeLine(result: ApplyResult): string {
  return `${describe(result.object)} ${result.outcome === 'unchanged' ? 'up to date' : result.outcome}`;
}
