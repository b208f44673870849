import { describe, expect, it } from 'vitest';
import { diagnoseWorkload, fixFor, formatDiagnosis, likelyCause, type ClusterEvent } from '../../tasks/lib/cluster/diagnose.ts';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'coredns', namespace: 'kube-system', generation: 2 },
  spec: { replicas: 2, selector: { matchLabels: { 'app.kubernetes.io/name': 'coredns' } } },
  status: { observedGeneration: 2, updatedReplicas: 0, availableReplicas: 0 },
};
const event = (kind: string, name: string, reason: string, message: string, lastTimestamp: string): ClusterEvent => ({
  apiVersion: 'v1',
  kind: 'Event',
  type: 'Warning',
  reason,
  message,
  count: 3,
  lastTimestamp,
  involvedObject: { kind, name, namespace: 'kube-system' },
});

describe('diagnose', () => {
  it('finds the FailedCreate event of the ReplicaSet behind a Deployment that has no pods, once, with its fix', () => {
    const message = 'pods "coredns-7f9c-" is forbidden: no PriorityClass with name no-such-class was found';
    const events = [
      event('ReplicaSet', 'coredns-7f9c', 'FailedCreate', message, '2026-11-26T10:00:05Z'),
      event('ReplicaSet', 'coredns-7f9c', 'FailedCreate', message, '2026-11-26T10:00:01Z'),
      event('ReplicaSet', 'other-5d4', 'FailedCreate', 'not ours', '2026-11-26T10:00:09Z'),
    ];
    const diagnosis = diagnoseWorkload(deployment, [], events);
    expect(diagnosis.events).toEqual([{ object: 'ReplicaSet/coredns-7f9c', reason: 'FailedCreate', message, count: 3, lastSeen: '2026-11-26T10:00:05Z' }]);
    expect(likelyCause([diagnosis])).toEqual({ reason: 'FailedCreate', message, fix: fixFor('FailedCreate') });
    expect(formatDiagnosis([diagnosis])).toBe(
      `    Deployment kube-system/coredns: 0/2 replicas updated\n      ReplicaSet/coredns-7f9c: FailedCreate: ${message} (×3)`,
    );
  });

  it('reads an unschedulable pod from its PodScheduled condition', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'coredns-7f9c-x2', namespace: 'kube-system', labels: { 'app.kubernetes.io/name': 'coredns' } },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector." }] },
    };
    const diagnosis = diagnoseWorkload(deployment, [pod], []);
    expect(diagnosis.pods).toEqual([{ name: 'coredns-7f9c-x2', phase: 'Pending', reason: 'Unschedulable', message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.", restarts: 0 }]);
    expect(likelyCause([diagnosis])?.fix).toContain('no node can take the pod');
  });

  it('names a failed hook Job by its condition and its pod’s exit', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'cert-manager-startupapicheck', namespace: 'cert-manager' },
      status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] },
    };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'cert-manager-startupapicheck-abc', labels: { 'batch.kubernetes.io/job-name': 'cert-manager-startupapicheck' } },
      status: { phase: 'Failed', containerStatuses: [{ restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error', message: 'the API is not available' } } }] },
    };
    const diagnosis = diagnoseWorkload(job, [pod], []);
    expect(diagnosis.state.reason).toBe('failed: BackoffLimitExceeded (Job has reached the specified backoff limit)');
    expect(diagnosis.pods[0]).toMatchObject({ phase: 'Failed', reason: 'Error', message: 'the API is not available' });
    expect(likelyCause([diagnosis])).toMatchObject({ reason: 'Error', message: 'the API is not available' });
  });

  it('shows a reason it does not know as it is, with no guess', () => {
    const diagnosis = diagnoseWorkload(deployment, [], [event('ReplicaSet', 'coredns-7f9c', 'SomethingNew', 'the cluster said so', '2026-11-26T10:00:00Z')]);
    expect(likelyCause([diagnosis])).toEqual({ reason: 'SomethingNew', message: 'the cluster said so', fix: 'no known fix for this reason: read the events and pod states above' });
  });
});

describe('events of earlier attempts', () => {
  it('are left out: an old ReplicaSet still holding warnings from before this wait is not the cause', () => {
    const old = event('ReplicaSet', 'coredns-b7d6', 'FailedCreate', 'no PriorityClass with name no-such-class was found', '2026-11-26T09:50:00Z');
    const now = event('Pod', 'coredns-c7cd-x', 'FailedScheduling', "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.", '2026-11-26T10:00:03Z');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coredns-c7cd-x', labels: { 'app.kubernetes.io/name': 'coredns' } }, status: { phase: 'Pending' } };
    const diagnosis = diagnoseWorkload(deployment, [pod], [old, now], new Date('2026-11-26T10:00:00Z'));
    expect(diagnosis.events.map((e) => e.reason)).toEqual(['FailedScheduling']);
    expect(likelyCause([diagnosis])?.reason).toBe('FailedScheduling');
  });
});
