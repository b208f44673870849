// One writer per cluster at a time: a coordination.k8s.io Lease in kube-system, held while a
// phase that changes the cluster runs, renewed while it runs, released when it ends (and on
// SIGINT/SIGTERM, which end the phase normally). A second run refuses, naming who holds it and
// since when, or waits for it with --wait-for-lock. A holder that died stops renewing, and its
// lease expires after LEASE_SECONDS; one that died on this machine (its PID gone, or reused by
// another process: process-identity.ts) is taken over at once, and the run says so.
import type { KubernetesObject } from '@kubernetes/client-node';
import { BootstrapError } from '../runtime/errors.ts';
import { pause } from '../runtime/interrupt.ts';
import { apiError, isNotFound, type Kube } from './kube.ts';
import { holderState, selfIdentity, type ProcessIdentity } from '../runtime/process-identity.ts';

export const LEASE_SECONDS = 60;
const RENEW_MS = 15_000;
const header = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'cluster-bootstrap', namespace: 'kube-system' } };
/** The holder's process (PID, start time, host), so that a holder that died can be told from a live one. */
export const HOLDER_ANNOTATION = 'cluster-bootstrap.io/holder-process';

interface Lease extends KubernetesObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string };
}

export interface LeaseHold {
  release(): Promise<void>;
}

/** Pure: who holds the lease now, or undefined when it is free or expired. */
export function currentHolder(lease: Lease | undefined, now: Date): { holder: string; since: string } | undefined {
  const spec = lease?.spec;
  if (!spec?.holderIdentity || !spec.renewTime) return undefined;
  const expires = new Date(spec.renewTime).getTime() + (spec.leaseDurationSeconds ?? LEASE_SECONDS) * 1000;
  return expires > now.getTime() ? { holder: spec.holderIdentity, since: spec.acquireTime ?? spec.renewTime } : undefined;
}

const microTime = (date: Date) => date.toISOString().replace(/Z$/, '000Z');

async function read(kube: Kube): Promise<Lease | undefined> {
  try {
    return (await kube.objects.read(header)) as Lease;
  } catch (cause) {
    if (isNotFound(cause)) return undefined;
    throw apiError(cause, 'Lease kube-system/cluster-bootstrap', 'read failed');
  }
}

/** Pure: why a held lease may be taken over now (its holder ran here and is gone), or undefined. */
export function deadHolder(lease: Lease | undefined): string | undefined {
  const text = lease?.metadata?.annotations?.[HOLDER_ANNOTATION];
  if (!text) return undefined;
  try {
    const state = holderState(JSON.parse(text) as ProcessIdentity);
    return state.state === 'gone' ? state.why : undefined;
  } catch {
    return undefined;
  }
}

type Attempt = { taken: true; tookOverFrom?: { holder: string; why: string } } | { taken: false; holder: string; since: string };

/** Takes the lease if it is free (or its holder is gone); false when someone else holds it or won the race. */
async function tryTake(kube: Kube, identity: string): Promise<Attempt> {
  const now = new Date();
  const lease = await read(kube);
  const held = currentHolder(lease, now);
  const dead = held && held.holder !== identity ? deadHolder(lease) : undefined;
  if (held && held.holder !== identity && !dead) return { taken: false, ...held };
  const spec = { holderIdentity: identity, leaseDurationSeconds: LEASE_SECONDS, acquireTime: microTime(now), renewTime: microTime(now) };
  const metadata = { ...header.metadata, annotations: { [HOLDER_ANNOTATION]: JSON.stringify(selfIdentity()) } };
  try {
    // create, or replace with the resourceVersion read above: of two racing runs, one wins.
    if (lease) await kube.objects.replace({ ...header, metadata: { ...metadata, resourceVersion: lease.metadata?.resourceVersion }, spec } as Lease);
    else await kube.objects.create({ ...header, metadata, spec } as Lease);
    return dead && held ? { taken: true, tookOverFrom: { holder: held.holder, why: dead } } : { taken: true };
  } catch {
    const winner = currentHolder(await read(kube), new Date());
    return { taken: false, holder: winner?.holder ?? 'another run', since: winner?.since ?? now.toISOString() };
  }
}

export async function acquireLease(
  kube: Kube,
  phase: string,
  clusterName: string,
  { wait, timeoutMs, onTakeover }: { wait: boolean; timeoutMs: number; onTakeover?: (holder: string, why: string) => void },
): Promise<LeaseHold> {
  const self = selfIdentity();
  const identity = `${self.host} pid ${self.pid} (${clusterName}:${phase})`;
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (;;) {
    const attempt = await tryTake(kube, identity);
    if (attempt.taken) {
      if (attempt.tookOverFrom) onTakeover?.(attempt.tookOverFrom.holder, attempt.tookOverFrom.why);
      break;
    }
    if (!wait || Date.now() >= deadline) {
      throw new BootstrapError({
        subject: `cluster ${clusterName} (Lease kube-system/cluster-bootstrap)`,
        problem: `another run changes this cluster: ${attempt.holder}, since ${attempt.since}; nothing was done`,
        fix: `wait for it to finish, or rerun with --wait-for-lock to wait up to --timeout; a holder that died releases the lease within ${LEASE_SECONDS}s`,
      });
    }
    await pause(1000, `the cluster's Lease kube-system/cluster-bootstrap (held by ${attempt.holder})`, started);
  }
  const renew = setInterval(() => {
    void (async () => {
      const lease = await read(kube).catch(() => undefined);
      if (lease?.spec?.holderIdentity !== identity) return;
      await kube.objects.replace({ ...lease, spec: { ...lease.spec, renewTime: microTime(new Date()) } }).catch(() => undefined);
    })();
  }, RENEW_MS);
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      const lease = await read(kube).catch(() => undefined);
      if (lease?.spec?.holderIdentity === identity) {
        const { holderIdentity: _h, ...rest } = lease.spec;
        await kube.objects.replace({ ...lease, spec: { ...rest, leaseDurationSeconds: LEASE_SECONDS } } as Lease).catch(() => undefined);
      }
    },
  };
}
