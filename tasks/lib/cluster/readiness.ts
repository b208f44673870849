// Readiness as pure predicates: each says ready or not, and why not, in words a user can act on.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

type WithStatus = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

const ready = (reason = 'ready'): Readiness => ({ ready: true, reason });
const notReady = (reason: string): Readiness => ({ ready: false, reason });

function conditionsOf(object: WithStatus): Condition[] {
  const conditions = object.status?.['conditions'];
  return Array.isArray(conditions) ? (conditions as Condition[]) : [];
}

/** An object's condition of one type (Flux's objects, FluxInstance, anything with status.conditions), if it has one. */
export const conditionOf = (object: WithStatus, type: string): Condition | undefined => conditionsOf(object).find((c) => c.type === type);

export const readyCondition = (object: WithStatus): Condition | undefined => conditionOf(object, 'Ready');

function conditionText(condition: Condition | undefined, type: string): string {
  if (!condition) return `no ${type} condition yet`;
  const detail = condition.message || condition.reason;
  return `${type}=${condition.status}${detail ? `: ${detail}` : ''}`;
}

/** A CRD is usable once the API server accepted its names and established it (FACTS E8). */
export function crdReadiness(crd: WithStatus): Readiness {
  const conditions = conditionsOf(crd);
  for (const type of ['NamesAccepted', 'Established']) {
    const condition = conditions.find((c) => c.type === type);
    if (condition?.status !== 'True') return notReady(conditionText(condition, type));
  }
  return ready('Established');
}

/** Namespaces have no Ready condition; Active is the only readiness they report (FACTS E5). */
export function namespaceReadiness(namespace: WithStatus): Readiness {
  const phase = namespace.status?.['phase'];
  return phase === 'Active' ? ready('Active') : notReady(`phase is ${String(phase ?? 'unknown')}`);
}

function generationObserved(object: WithStatus): Readiness | undefined {
  const generation = object.metadata?.generation;
  const observed = object.status?.['observedGeneration'] as number | undefined;
  if (generation !== undefined && (observed === undefined || observed < generation)) {
    return notReady(`controller has not observed generation ${generation} yet`);
  }
  return undefined;
}

const count = (source: Record<string, unknown> | undefined, key: string, fallback = 0): number =>
  (source?.[key] as number | undefined) ?? fallback;

/** A rollout is done when every wanted replica (or pod) is updated and available. */
function rolloutReadiness(wanted: number, updated: number, available: number, unit: string): Readiness {
  if (updated < wanted) return notReady(`${updated}/${wanted} ${unit} updated`);
  if (available < wanted) return notReady(`${available}/${wanted} ${unit} available`);
  return ready(`${available}/${wanted} available`);
}

export function deploymentReadiness(deployment: WithStatus): Readiness {
  const wanted = count(deployment.spec, 'replicas', 1);
  return (
    generationObserved(deployment) ??
    rolloutReadiness(wanted, count(deployment.status, 'updatedReplicas'), count(deployment.status, 'availableReplicas'), 'replicas')
  );
}

export function daemonSetReadiness(daemonSet: WithStatus): Readiness {
  const desired = count(daemonSet.status, 'desiredNumberScheduled');
  return (
    generationObserved(daemonSet) ??
    (desired === 0
      ? notReady('no node runs it (0 desired pods)')
      : rolloutReadiness(desired, count(daemonSet.status, 'updatedNumberScheduled'), count(daemonSet.status, 'numberAvailable'), 'pods'))
  );
}

export function statefulSetReadiness(statefulSet: WithStatus): Readiness {
  const wanted = count(statefulSet.spec, 'replicas', 1);
  const readyReplicas = count(statefulSet.status, 'readyReplicas');
  return (
    generationObserved(statefulSet) ??
    (readyReplicas >= wanted ? ready(`${readyReplicas}/${wanted} ready`) : notReady(`${readyReplicas}/${wanted} replicas ready`))
  );
}

/**
 * A named condition (e.g. FluxInstance Ready=True), flux style: a suspended object fails fast,
 * and a condition about an older generation does not count.
 */
export function conditionReadiness(object: WithStatus, type: string, status = 'True'): Readiness {
  if (object.spec?.['suspend'] === true) return notReady('suspended');
  const condition = conditionsOf(object).find((c) => c.type === type);
  const generation = object.metadata?.generation;
  if (condition?.observedGeneration !== undefined && generation !== undefined && condition.observedGeneration < generation) {
    return notReady(`${type} condition is for generation ${condition.observedGeneration}, object is at ${generation}`);
  }
  if (condition?.status !== status) return notReady(conditionText(condition, type));
  return ready(conditionText(condition, type));
}

/** Jobs: complete, failed (with the reason), or still running. */
export function jobReadiness(job: WithStatus): Readiness {
  const conditions = conditionsOf(job);
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return notReady(`failed: ${failed.reason ?? ''}${failed.message ? ` (${failed.message})` : ''}`);
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return ready('complete');
  return notReady(`${count(job.status, 'active')} active, ${count(job.status, 'failed')} failed pods`);
}

/** Readiness of the workload kinds verify checks in core namespaces and core diagnoses while helm waits. */
export function workloadReadiness(object: WithStatus): Readiness {
  switch (object.kind) {
    case 'Deployment':
      return deploymentReadiness(object);
    case 'DaemonSet':
      return daemonSetReadiness(object);
    case 'StatefulSet':
      return statefulSetReadiness(object);
    case 'Job':
      return jobReadiness(object);
    default:
      return notReady(`no readiness rule for kind ${object.kind}`);
  }
}
