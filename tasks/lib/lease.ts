// One writer per cluster at a time: a coordination.k8s.io Lease in kube-system, held while a
// phase that changes the cluster runs, renewed while it runs, released when it ends (and on
// SIGINT/SIGTERM, which end the phase normally). A second run refuses, naming who holds it and
// since when, or waits for it with --wait-for-lock. A holder that died stops renewing, and its
// lease expires after LEASE_SECONDS.
import os from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { BootstrapError } from './errors.ts';
import { apiError, isNotFound, type Kube } from './kube.ts';

export const LEASE_SECONDS = 60;
const RENEW_MS = 15_000;
const header = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'cluster-bootstrap', namespace: 'kube-system' } };

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

/** Takes the lease if it is free; false when someone else holds it or won the race. */
async function tryTake(kube: Kube, identity: string): Promise<{ taken: true } | { taken: false; holder: string; since: string }> {
  const now = new Date();
  const lease = await read(kube);
  const held = currentHolder(lease, now);
  if (held && held.holder !== identity) return { taken: false, ...held };
  const spec = { holderIdentity: identity, leaseDurationSeconds: LEASE_SECONDS, acquireTime: microTime(now), renewTime: microTime(now) };
  try {
    // create, or replace with the resourceVersion read above: of two racing runs, one wins.
    if (lease) await kube.objects.replace({ ...header, metadata: { ...header.metadata, resourceVersion: lease.metadata?.resourceVersion }, spec } as Lease);
    else await kube.objects.create({ ...header, spec } as Lease);
    return { taken: true };
  } catch {
    const winner = currentHolder(await read(kube), new Date());
    return { taken: false, holder: winner?.holder ?? 'another run', since: winner?.since ?? now.toISOString() };
  }
}

export async function acquireLease(kube: Kube, phase: string, cluster: string, { wait, timeoutMs }: { wait: boolean; timeoutMs: number }): Promise<LeaseHold> {
  const identity = `${os.hostname()} pid ${process.pid} (${cluster}:${phase})`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attempt = await tryTake(kube, identity);
    if (attempt.taken) break;
    if (!wait || Date.now() >= deadline) {
      throw new BootstrapError({
        subject: `cluster ${cluster} (Lease kube-system/cluster-bootstrap)`,
        problem: `another run changes this cluster: ${attempt.holder}, since ${attempt.since}; nothing was done`,
        fix: `wait for it to finish, or rerun with --wait-for-lock to wait up to --timeout; a holder that died releases the lease within ${LEASE_SECONDS}s`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
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
