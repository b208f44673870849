// What the cluster says about releases while helm installs them: their workloads (found by the
// annotations Helm puts on every object it creates, plus hook Jobs), each workload's pods, and
// the namespaces' Warning events. Read by the tool itself, never parsed from helm's text.
import type { KubernetesObject } from '@kubernetes/client-node';
import { diagnoseWorkload, type ClusterEvent, type WorkloadDiagnosis } from '../cluster/diagnose.ts';
import { listObjects as list, type Kube } from '../cluster/kube.ts';

export interface ReleaseRef {
  name: string;
  namespace: string;
}

/** The workload kinds a release's readiness is judged by (core while helm waits, verify after). */
export const WORKLOADS: Array<[string, string]> = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'DaemonSet'],
  ['apps/v1', 'StatefulSet'],
  ['batch/v1', 'Job'],
];

function belongsTo(object: KubernetesObject, release: ReleaseRef): boolean {
  const annotations = object.metadata?.annotations ?? {};
  // Hooks are not part of the release manifest and carry no release annotation; in the release
  // namespace a hook Job is the release's.
  return annotations['meta.helm.sh/release-name'] === release.name || (object.kind === 'Job' && annotations['helm.sh/hook'] !== undefined);
}

/** One progress line for a release: what is still missing, or that it is ready. */
export function progressText(diagnoses: WorkloadDiagnosis[] | undefined): string {
  if (!diagnoses || diagnoses.length === 0) return 'waiting for its workloads';
  const pending = diagnoses.filter((d) => !d.state.ready);
  if (pending.length === 0) return `${diagnoses.length} workload(s) ready`;
  return pending
    .map((d) => {
      const waiting = d.pods.filter((p) => p.phase !== 'Running' && p.phase !== 'Succeeded');
      const phases = [...new Set(waiting.map((p) => p.phase))].map((phase) => `${waiting.filter((p) => p.phase === phase).length} pod ${phase}`);
      return `${d.workload.split('/').pop()} (${d.workload.split(' ')[0]}) ${d.state.reason}${phases.length ? `, ${phases.join(', ')}` : ''}`;
    })
    .join('; ');
}

/** Per release, the diagnosis of each of its workloads (ready or not). */
/** `since`: Warning events last seen before it are left out (they are about earlier attempts). */
export async function releaseStatus(kube: Kube, releases: ReleaseRef[], since?: Date): Promise<Map<string, WorkloadDiagnosis[]>> {
  const namespaces = [...new Set(releases.map((r) => r.namespace))];
  const byNamespace = new Map(
    await Promise.all(
      namespaces.map(async (namespace) => {
        const [workloads, pods, events] = await Promise.all([
          Promise.all(WORKLOADS.map(([apiVersion, kind]) => list(kube, apiVersion, kind, namespace))).then((all) => all.flat()),
          list(kube, 'v1', 'Pod', namespace),
          list(kube, 'v1', 'Event', namespace) as Promise<ClusterEvent[]>,
        ]);
        return [namespace, { workloads, pods, events }] as const;
      }),
    ),
  );
  const status = new Map<string, WorkloadDiagnosis[]>();
  for (const release of releases) {
    const { workloads, pods, events } = byNamespace.get(release.namespace)!;
    status.set(
      release.name,
      workloads.filter((w) => belongsTo(w, release)).map((w) => diagnoseWorkload(w, pods, events, since)),
    );
  }
  return status;
}
