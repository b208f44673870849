import { describe, expect, it } from 'vitest';
import {
  conditionReadiness,
  crdReadiness,
  daemonSetReadiness,
  deploymentReadiness,
  jobReadiness,
  namespaceReadiness,
  workloadReadiness,
} from '../../tasks/lib/cluster/readiness.ts';

const meta = (generation?: number) => ({ name: 'x', generation });

describe('crdReadiness', () => {
  it('needs both NamesAccepted and Established (E8)', () => {
    const status = (established: string) => ({
      kind: 'CustomResourceDefinition',
      metadata: meta(),
      status: {
        conditions: [
          { type: 'NamesAccepted', status: 'True' },
          { type: 'Established', status: established, message: 'not yet' },
        ],
      },
    });
    expect(crdReadiness(status('False'))).toEqual({ ready: false, reason: 'Established=False: not yet' });
    expect(crdReadiness(status('True'))).toEqual({ ready: true, reason: 'Established' });
    expect(crdReadiness({ metadata: meta(), status: {} })).toEqual({ ready: false, reason: 'no NamesAccepted condition yet' });
  });
});

describe('namespaceReadiness', () => {
  it('is phase Active, not a Ready condition (E5)', () => {
    expect(namespaceReadiness({ metadata: meta(), status: { phase: 'Active' } }).ready).toBe(true);
    expect(namespaceReadiness({ metadata: meta(), status: { phase: 'Terminating' } })).toEqual({ ready: false, reason: 'phase is Terminating' });
    const readyConditionOnly = { metadata: meta(), status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(namespaceReadiness(readyConditionOnly).ready).toBe(false);
  });
});

describe('workloads', () => {
  it('deployment needs the current generation observed and all replicas available', () => {
    expect(deploymentReadiness({ metadata: meta(2), spec: { replicas: 2 }, status: { observedGeneration: 1 } }).reason).toBe(
      'controller has not observed generation 2 yet',
    );
    expect(
      deploymentReadiness({ metadata: meta(2), spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 1 } }),
    ).toEqual({ ready: false, reason: '1/2 replicas available' });
    expect(
      deploymentReadiness({ metadata: meta(2), spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2 } }).ready,
    ).toBe(true);
  });

  it('a job is ready once complete, and says why not while it runs or after it failed', () => {
    const job = (status: Record<string, unknown>) => ({ kind: 'Job', metadata: meta(1), spec: { completions: 1 }, status });
    expect(workloadReadiness(job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }))).toEqual({ ready: true, reason: 'complete' });
    expect(jobReadiness(job({ active: 1 }))).toEqual({ ready: false, reason: '1 active, 0 failed pods' });
    expect(jobReadiness(job({ conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] }))).toEqual({
      ready: false,
      reason: 'failed: BackoffLimitExceeded (Job has reached the specified backoff limit)',
    });
  });

  it('daemonset with zero desired pods is not ready', () => {
    expect(daemonSetReadiness({ metadata: meta(1), status: { observedGeneration: 1, desiredNumberScheduled: 0 } })).toEqual({
      ready: false,
      reason: 'no node runs it (0 desired pods)',
    });
    expect(
      daemonSetReadiness({ metadata: meta(1), status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 } }).ready,
    ).toBe(true);
  });
});

describe('conditionReadiness', () => {
  const flux = (conditions: object[], extra: object = {}) => ({
    kind: 'FluxInstance',
    metadata: meta(3),
    spec: { ...extra },
    status: { conditions },
  });

  it('reads a named condition such as FluxInstance Ready (E6)', () => {
    expect(conditionReadiness(flux([{ type: 'Ready', status: 'True', observedGeneration: 3, message: 'Reconciliation finished' }]), 'Ready')).toEqual({
      ready: true,
      reason: 'Ready=True: Reconciliation finished',
    });
    expect(conditionReadiness(flux([]), 'Ready')).toEqual({ ready: false, reason: 'no Ready condition yet' });
  });

  it('ignores a condition about an older generation and fails a suspended object', () => {
    expect(conditionReadiness(flux([{ type: 'Ready', status: 'True', observedGeneration: 2 }]), 'Ready').reason).toBe(
      'Ready condition is for generation 2, object is at 3',
    );
    expect(conditionReadiness(flux([{ type: 'Ready', status: 'True' }], { suspend: true }), 'Ready')).toEqual({ ready: false, reason: 'suspended' });
  });
});
