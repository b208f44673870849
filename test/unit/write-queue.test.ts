import { describe, expect, it } from 'vitest';
import { runWriteQueue } from '../../tasks/lib/runtime/write-queue.ts';

describe('runWriteQueue', () => {
  it('writes everything when nothing fails', async () => {
    const result = await runWriteQueue([1, 2, 3], async () => undefined);
    expect(result).toMatchObject({ done: [1, 2, 3], notDone: [], failure: undefined });
  });

  it('starts no new write after the first failure, and says what was and was not written', async () => {
    const started: number[] = [];
    const result = await runWriteQueue(
      [1, 2, 3, 4, 5, 6],
      async (n) => {
        started.push(n);
        if (n === 2) throw new Error('invalid CRD');
      },
      1,
    );
    expect(started).toEqual([1, 2]);
    expect(result.done).toEqual([1]);
    expect(result.notDone).toEqual([2, 3, 4, 5, 6]);
    expect((result.failure?.error as Error).message).toBe('invalid CRD');
    expect(result.failure?.item).toBe(2);
  });
});
