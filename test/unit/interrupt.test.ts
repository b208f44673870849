// SIGTERM while a phase waits: the wait stops at its next poll, says what was still pending, and
// carries the exit code a shell gives a process ended by SIGTERM. (process.emit delivers the
// event to the handlers without signalling the test runner itself.)
import { describe, expect, it } from 'vitest';
import { BootstrapError } from '../../tasks/lib/errors.ts';
import { interruption, watchInterrupts } from '../../tasks/lib/interrupt.ts';
import { waitUntilReady } from '../../tasks/lib/wait.ts';
import { runWriteQueue } from '../../tasks/lib/write-queue.ts';

describe('interrupts', () => {
  it('stop a wait and the write queue at their next safe point', async () => {
    watchInterrupts();
    let polls = 0;
    const waiting = waitUntilReady(
      ['crd-a', 'crd-b'],
      async () => {
        if (++polls === 2) process.emit('SIGTERM', 'SIGTERM');
        return new Map([['crd-a', { ready: true, reason: 'ok' }]]);
      },
      { timeoutMs: 60_000, intervalMs: 1, what: 'CRDs to be Established' },
    );
    const error = (await waiting.catch((e: unknown) => e)) as BootstrapError;
    expect(error.message).toBe(
      'waiting for CRDs to be Established: SIGTERM received; 1 still not ready (every write before the wait was complete)\n' +
        '  fix: rerun the same target: what was applied is reported up to date, and the wait starts again',
    );
    expect(error.exitCode).toBe(143);
    expect(interruption()).toBe('SIGTERM');

    const written: number[] = [];
    const queue = await runWriteQueue([1, 2, 3], async (n) => void written.push(n));
    expect(written).toEqual([]);
    expect(queue).toMatchObject({ done: [], notDone: [1, 2, 3], interrupted: 'SIGTERM' });
  });
});
