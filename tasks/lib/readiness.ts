// Readiness as pure predicates: each says ready or not, and why not, in words a user can act on.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface Readiness {
  ready: boolean;
  reason: string;
}

interface Condition {
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

export function deploymentReadiness(deployment: WithStatus): Readiness {
  const stale = generationObserved(deployment);
  if (stale) return stale;
  const wanted = (deployment.spec?.['replicas'] as number | undefined) ?? 1;
  const status = deployment.status ?? {};
  const updated = (status['updatedReplicas'] as number | undefined) ?? 0;
  const available = (status['availableReplicas'] as number | undefined) ?? 0;
  if (updated < wanted) return notReady(`${updated}/${wanted} replicas updated`);
  if (available < wanted) return notReady(`${available}/${wanted} replicas available`);
  return ready(`${available}/${wanted} available`);
}

export function daemonSetReadiness(daemonSet: WithStatus): Readiness {
  const stale = generationObserved(daemonSet);
  if (stale) return stale;
  const status = daemonSet.status ?? {};
  const desired = (status['desiredNumberScheduled'] as number | undefined) ?? 0;
  const updated = (status['updatedNumberScheduled'] as number | undefined) ?? 0;
  const available = (status['numberAvailable'] as number | undefined) ?? 0;
  if (desired === 0) return notReady('no node runs it (0 desired pods)');
  if (updated < desired) return notReady(`${updated}/${desired} pods updated`);
  if (available < desired) return notReady(`${available}/${desired} pods available`);
  return ready(`${available}/${desired} available`);
}

export function statefulSetReadiness(statefulSet: WithStatus): Readiness {
  const stale = generationObserved(statefulSet);
  if (stale) return stale;
  const wanted = (statefulSet.spec?.['replicas'] as number | undefined) ?? 1;
  const readyReplicas = (statefulSet.status?.['readyReplicas'] as number | undefined) ?? 0;
  return readyReplicas >= wanted ? ready(`${readyReplicas}/${wanted} ready`) : notReady(`${readyReplicas}/${wanted} replicas ready`);
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

/** Readiness of the workload kinds verify checks in core namespaces. */
export function workloadReadiness(object: WithStatus): Readiness {
  switch (object.kind) {
    case 'Deployment':
      return deploymentReadiness(object);
    case 'DaemonSet':
      return daemonSetReadiness(object);
    case 'StatefulSet':
      return statefulSetReadiness(object);
    default:
      return notReady(`no readiness rule for kind ${object.kind}`);
  }
}
