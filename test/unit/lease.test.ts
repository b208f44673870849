import { describe, expect, it } from 'vitest';
import { currentHolder } from '../../tasks/lib/lease.ts';

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
