// Polls readiness under a deadline. On timeout the error names every item that is not ready
// and the last reason seen for it.
import { BootstrapError } from '../runtime/errors.ts';
import { interruptedError, interruption, pause } from '../runtime/interrupt.ts';
import type { Readiness } from './readiness.ts';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, e.g. "CRDs to be Established". */
  what: string;
  fix?: string;
  /** Called after each check that left keys pending (live progress). */
  onPending?: (pending: Array<{ key: string; reason: string }>, elapsedMs: number) => void;
}

/**
 * Calls `check` until every key reports ready. `check` returns the readiness of the keys it
 * was asked about; a key missing from its answer counts as "not found yet".
 */
export async function waitUntilReady(
  keys: string[],
  check: (pending: string[]) => Promise<Map<string, Readiness>>,
  { timeoutMs, intervalMs = 250, what, fix, onPending }: WaitOptions,
): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let pending = [...keys];
  const lastReason = new Map<string, string>();
  while (pending.length > 0) {
    const states = await check(pending);
    pending = pending.filter((key) => {
      const state = states.get(key);
      lastReason.set(key, state?.reason ?? 'not found yet');
      return !state?.ready;
    });
    if (pending.length === 0) return;
    const notReady = `${pending.length} still not ready (every write before the wait was complete)`;
    const signal = interruption();
    if (signal) throw interruptedError(signal, what, started, notReady);
    onPending?.(pending.map((key) => ({ key, reason: lastReason.get(key)! })), Date.now() - started);
    if (Date.now() >= deadline) {
      throw new BootstrapError({
        subject: `waiting for ${what}`,
        problem: `timed out after ${Math.round(timeoutMs / 1000)}s; not ready:\n${pending
          .map((key) => `    ${key}: ${lastReason.get(key)}`)
          .join('\n')}`,
        fix: fix ?? 'inspect the resources named above; rerun the same target once they are fixed',
      });
    }
    await pause(intervalMs, what, started).catch((error: unknown) => {
      throw interruption() ? interruptedError(interruption()!, what, started, notReady) : error;
    });
  }
}
