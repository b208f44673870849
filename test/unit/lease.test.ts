import { describe, expect, it } from 'vitest';
import { currentHolder, deadHolder, HOLDER_ANNOTATION } from '../../tasks/lib/cluster/lease.ts';
import { selfIdentity } from '../../tasks/lib/runtime/process-identity.ts';

const lease = (renewTime: string | undefined, holderIdentity: string | undefined = 'ci-runner pid 4242 (infra:core)') => ({
  spec: { holderIdentity, leaseDurationSeconds: 60, acquireTime: '2026-11-26T10:00:00.000000Z', renewTime },
});

describe('currentHolder', () => {
  const now = new Date('2026-11-26T10:01:00Z');

  it('names the holder of a lease renewed within its duration', () => {
    expect(currentHolder(lease('2026-11-26T10:00:30.000000Z'), now)).toEqual({ holder: 'ci-runner pid 4242 (infra:core)', since: '2026-11-26T10:00:00.000000Z' });
  });

  it('treats an expired, released or missing lease as free', () => {
    expect(currentHolder(lease('2026-11-26T09:59:00.000000Z'), now)).toBeUndefined();
    expect(currentHolder(lease('2026-11-26T10:00:30.000000Z', ''), now)).toBeUndefined();
    expect(currentHolder(undefined, now)).toBeUndefined();
  });
});

describe('deadHolder', () => {
  const held = (holder: object | undefined) => ({ metadata: { annotations: holder ? { [HOLDER_ANNOTATION]: JSON.stringify(holder) } : ({} as Record<string, string>) }, spec: {} });

  it('lets a run take over the Lease of a holder on this machine that is gone, or whose PID was reused', () => {
    const self = selfIdentity();
    expect(deadHolder(held({ ...self, pid: 999_999_999 }))).toBe('pid 999999999 is not running');
    expect(deadHolder(held({ ...self, start: 'another-boot:1' }))).toBe(`pid ${self.pid} now belongs to another process (started later)`);
  });

  it('never takes over a live holder, another host\'s, or one that recorded no process (an older version)', () => {
    expect(deadHolder(held(selfIdentity()))).toBeUndefined();
    expect(deadHolder(held({ ...selfIdentity(), host: 'ci-runner-7' }))).toBeUndefined();
    expect(deadHolder(held(undefined))).toBeUndefined();
  });
});
