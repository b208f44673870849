// Writes to a cluster with bounded parallelism that stop at the first failure (or on SIGINT /
// SIGTERM): no new write starts, the ones in flight finish, and the result says exactly which
// items were written and which were not, so the error can tell the user how to finish.
import pLimit from 'p-limit';
import { interruption } from './interrupt.ts';

export interface QueueResult<T> {
  done: T[];
  notDone: T[];
  /** The first failure, with the item it happened on. */
  failure?: { item: T; error: unknown };
  interrupted?: NodeJS.Signals;
}

export async function runWriteQueue<T>(items: T[], write: (item: T) => Promise<void>, concurrency = 4): Promise<QueueResult<T>> {
  const limit = pLimit(concurrency);
  const done: T[] = [];
  let failure: QueueResult<T>['failure'];
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (failure || interruption()) return;
        try {
          await write(item);
          done.push(item);
        } catch (error) {
          failure ??= { item, error };
        }
      }),
    ),
  );
  const written = new Set(done);
  return { done, notDone: items.filter((i) => !written.has(i)), failure, interrupted: interruption() };
}
