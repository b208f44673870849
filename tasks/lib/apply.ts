// Applies objects server-side and says what happened to each: created, configured or unchanged.
// A server-side apply that changes nothing leaves resourceVersion alone, which is how a rerun
// can say "up to date" without comparing specs by hand.
import pLimit from 'p-limit';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, readObject, serverSideApply, type Kube } from './kube.ts';
import { toClientObject } from './manifests.ts';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  object: KubernetesObject;
  outcome: ApplyOutcome;
}

export async function applyOne(kube: Kube, object: KubernetesObject): Promise<ApplyResult> {
  const live = await readObject(kube, object);
  const applied = await serverSideApply(kube, toClientObject(object));
  if (!live) return { object: applied, outcome: 'created' };
  const changed = live.metadata?.resourceVersion !== applied.metadata?.resourceVersion;
  return { object: applied, outcome: changed ? 'configured' : 'unchanged' };
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
