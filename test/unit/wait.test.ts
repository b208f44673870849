import { describe, expect, it } from 'vitest';
import type { Readiness } from '../../tasks/lib/cluster/readiness.ts';
import { waitUntilReady } from '../../tasks/lib/cluster/wait.ts';

describe('waitUntilReady', () => {
  it('polls until every key is ready, asking only about pending keys', async () => {
    const asked: string[][] = [];
    let round = 0;
    await waitUntilReady(
      ['a', 'b'],
      async (pending) => {
        asked.push(pending);
        round++;
        return new Map<string, Readiness>([
          ['a', { ready: true, reason: 'ok' }],
          ['b', { ready: round >= 3, reason: `round ${round}` }],
        ]);
      },
      { timeoutMs: 5_000, intervalMs: 1, what: 'things' },
    );
    expect(asked).toEqual([['a', 'b'], ['b'], ['b']]);
  });

  it('on timeout names each pending key with its last reason', async () => {
    await expect(
      waitUntilReady(
        ['crd-a', 'crd-b'],
        async () => new Map([['crd-a', { ready: false, reason: 'Established=False: names conflict' }]]),
        { timeoutMs: 0, intervalMs: 1, what: 'CRDs', fix: 'look at them' },
      ),
    ).rejects.toThrow(
      'waiting for CRDs: timed out after 0s; not ready:\n    crd-a: Established=False: names conflict\n    crd-b: not found yet\n  fix: look at them',
    );
  });
});
