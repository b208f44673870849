// Why a workload is not ready, from what the cluster says: its pods (phase, waiting or terminated
// reason, restarts) and the newest Warning events of the workload, its ReplicaSets, Jobs and
// pods. Then the most likely cause and the fix for it. Pure: release-status.ts gathers the input.
import type { KubernetesObject } from '@kubernetes/client-node';
import { workloadReadiness, type Readiness } from './readiness.ts';

export interface PodState {
  name: string;
  phase: string;
  /** A container's waiting or terminated reason and message, or the pod's own condition reason. */
  reason?: string;
  message?: string;
  restarts: number;
}

export interface WarningEvent {
  /** "Kind/name" of the object the event is about. */
  object: string;
  reason: string;
  message: string;
  count: number;
  lastSeen: string;
}

export interface WorkloadDiagnosis {
  /** "Kind namespace/name". */
  workload: string;
  state: Readiness;
  pods: PodState[];
  events: WarningEvent[];
  /** A failed Job's condition reason and message (BackoffLimitExceeded, DeadlineExceeded). */
  failure?: { reason: string; message: string };
}

export interface LikelyCause {
  reason: string;
  message: string;
  fix: string;
}

type Workload = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
type Pod = KubernetesObject & {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{ restartCount?: number; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } } }>;
  };
};
export type ClusterEvent = KubernetesObject & {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | Date;
  eventTime?: string | Date;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
};

const MAX_EVENTS = 5;

type Condition = { type: string; status: string; reason?: string; message?: string };

function jobFailure(job: Workload): Condition | undefined {
  const conditions = (job.status?.['conditions'] as Condition[] | undefined) ?? [];
  return conditions.find((c) => c.type === 'Failed' && c.status === 'True');
}

export function podState(pod: Pod): PodState {
  const containers = pod.status?.containerStatuses ?? [];
  const troubled = containers.map((c) => c.state?.waiting ?? (c.state?.terminated?.exitCode ? c.state.terminated : undefined)).find(Boolean);
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const reason = troubled?.reason ?? unscheduled?.reason ?? pod.status?.reason;
  const message = troubled?.message ?? unscheduled?.message ?? pod.status?.message;
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    restarts: containers.reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
  };
}

/** Pods a workload owns: by its selector's labels (Deployments, DaemonSets, StatefulSets) or job name. */
export function podsOf(workload: Workload, pods: Pod[]): Pod[] {
  const name = workload.metadata?.name;
  if (workload.kind === 'Job') return pods.filter((p) => p.metadata?.labels?.['job-name'] === name || p.metadata?.labels?.['batch.kubernetes.io/job-name'] === name);
  const selector = ((workload.spec?.['selector'] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {}) as Record<string, string>;
  const entries = Object.entries(selector);
  if (entries.length === 0) return [];
  return pods.filter((p) => entries.every(([k, v]) => p.metadata?.labels?.[k] === v));
}

function seen(event: ClusterEvent): string {
  const time = event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp;
  return time instanceof Date ? time.toISOString() : String(time ?? '');
}

/** Newest Warning events about the workload, its ReplicaSets (name prefix) and its pods; one per reason and message. */
export function eventsOf(workload: Workload, pods: Pod[], events: ClusterEvent[], since?: Date): WarningEvent[] {
  const name = workload.metadata?.name ?? '';
  const podNames = new Set(pods.map((p) => p.metadata?.name));
  const about = (e: ClusterEvent) => {
    const { kind, name: object = '' } = e.involvedObject ?? {};
    if (kind === workload.kind && object === name) return true;
    if (kind === 'ReplicaSet' && object.startsWith(`${name}-`)) return true;
    return kind === 'Pod' && podNames.has(object);
  };
  const unique = new Map<string, WarningEvent>();
  // Events outlive what caused them (an hour by default): one last seen before the wait began is
  // about an earlier attempt (an old ReplicaSet), not this one.
  const recent = (e: ClusterEvent) => since === undefined || new Date(seen(e)).getTime() >= since.getTime();
  for (const event of events.filter((e) => e.type === 'Warning' && about(e) && recent(e)).sort((a, b) => seen(b).localeCompare(seen(a)))) {
    const key = `${event.reason}\u0000${event.message}`;
    if (!unique.has(key)) {
      unique.set(key, {
        object: `${event.involvedObject?.kind}/${event.involvedObject?.name}`,
        reason: event.reason ?? '',
        message: (event.message ?? '').trim(),
        count: event.count ?? 1,
        lastSeen: seen(event),
      });
    }
  }
  return [...unique.values()].slice(0, MAX_EVENTS);
}

export function diagnoseWorkload(workload: Workload, pods: Pod[], events: ClusterEvent[], since?: Date): WorkloadDiagnosis {
  const owned = podsOf(workload, pods);
  const { namespace, name } = workload.metadata ?? {};
  const failed = workload.kind === 'Job' ? jobFailure(workload) : undefined;
  return {
    workload: `${workload.kind} ${namespace}/${name}`,
    state: workloadReadiness(workload),
    pods: owned.map(podState),
    events: eventsOf(workload, owned, events, since),
    ...(failed?.reason ? { failure: { reason: failed.reason, message: failed.message ?? '' } } : {}),
  };
}

/** A fix per reason the cluster reports; unknown reasons get none (shown as they are, no guess). */
const fixes: Array<[RegExp, string]> = [
  [/^FailedScheduling$|^Unschedulable$/, 'no node can take the pod: compare its nodeSelector, affinity, tolerations and resource requests with the nodes (kubectl get nodes --show-labels)'],
  [/^FailedCreate$/, "the controller cannot create the pods: the message names what is missing or denied (a PriorityClass, ServiceAccount, quota or admission webhook); fix it in the chart's values"],
  [/^(ImagePullBackOff|ErrImagePull|InvalidImageName)$/, 'the image cannot be pulled: check the image name and tag in the values, and the registry credentials'],
  [/^CrashLoopBackOff$|^Error$/, 'the container exits: read its logs (kubectl logs --previous) and fix its configuration'],
  [/^(BackoffLimitExceeded|DeadlineExceeded)$/, "a Job failed, often a Helm hook: read its pod's logs; the release stays failed until the hook succeeds"],
  [/^FailedMount$|^FailedAttachVolume$/, 'a volume cannot be mounted: check the PVC is bound and the Secret or ConfigMap exists'],
];

export function fixFor(reason: string): string | undefined {
  return fixes.find(([pattern]) => pattern.test(reason))?.[1];
}

/**
 * The most telling reason among the not-ready workloads: the first one with a known fix (events
 * newest first, then pods, then a failed Job's condition), else the first seen, with no guess.
 */
export function likelyCause(diagnoses: WorkloadDiagnosis[]): LikelyCause | undefined {
  const candidates = diagnoses
    .filter((d) => !d.state.ready)
    .flatMap((d) => [
      ...d.events.map(({ reason, message }) => ({ reason, message })),
      ...d.pods.filter((p) => p.reason).map((p) => ({ reason: p.reason!, message: p.message ?? '' })),
      ...(d.failure ? [d.failure] : []),
    ]);
  const chosen = candidates.find((c) => fixFor(c.reason)) ?? candidates[0];
  if (!chosen) return undefined;
  return { ...chosen, fix: fixFor(chosen.reason) ?? 'no known fix for this reason: read the events and pod states above' };
}

/** The not-ready workloads with their pods and events; the likely cause's own text is left to its line. */
export function formatDiagnosis(diagnoses: WorkloadDiagnosis[], cause?: LikelyCause): string {
  const isCause = (reason?: string, message?: string) => cause !== undefined && reason === cause.reason && (message ?? '') === cause.message;
  const lines: string[] = [];
  for (const d of diagnoses.filter((x) => !x.state.ready)) {
    lines.push(`    ${d.workload}: ${d.state.reason}`);
    for (const pod of d.pods) {
      const detail = isCause(pod.reason, pod.message) ? `${pod.reason} (the likely cause, below)` : `${pod.reason ?? ''}${pod.message ? `: ${pod.message}` : ''}`;
      lines.push(`      pod ${pod.name}: ${pod.phase}${pod.reason ? `, ${detail}` : ''}${pod.restarts ? ` (${pod.restarts} restarts)` : ''}`);
    }
    for (const event of d.events) {
      const text = isCause(event.reason, event.message) ? '(the likely cause, below)' : event.message;
      lines.push(`      ${event.object}: ${event.reason}: ${text}${event.count > 1 ? ` (×${event.count})` : ''}`);
    }
  }
  return lines.join('\n');
}
