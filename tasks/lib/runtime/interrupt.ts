// SIGINT / SIGTERM (Ctrl-C, a cancelled CI job). A write in flight (an API write, a helm
// install) finishes first, so the phase can say what was done and what was not; nothing else
// waits for it: every wait (pause()) stops at once, children that only read are ended, and if
// the run has not stopped by itself STOP_WITHIN_MS after the last write ended, it exits anyway,
// naming what it was waiting for. A second signal exits at once.
import { endChildren } from './children.ts';
import { BootstrapError } from './errors.ts';

/** A wait still running this long after the signal (and the last write) is ended by exiting. */
export const STOP_WITHIN_MS = 1500;

let received: NodeJS.Signals | undefined;
let writesInFlight = 0;
let waitingFor: { what: string; since: number } | undefined;
let forcedExit: NodeJS.Timeout | undefined;
const wakers = new Set<() => void>();

/** The exit code a shell gives a process ended by that signal. */
export function interruptExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

function exitNow(signal: NodeJS.Signals, why: string): never {
  process.stderr.write(`✗ ${why}\n`);
  endChildren('SIGKILL');
  process.exit(interruptExitCode(signal));
}

/** Once no write is in flight, the run has STOP_WITHIN_MS to stop by itself. */
function armForcedExit(): void {
  if (!received || writesInFlight > 0 || forcedExit) return;
  const signal = received;
  forcedExit = setTimeout(() => {
    const wait = waitingFor ? `while waiting for ${waitingFor.what} (${seconds(waitingFor.since)})` : 'with no write in flight';
    exitNow(signal, `${signal}: stopped ${wait}; rerun the same target to continue`);
  }, STOP_WITHIN_MS);
  forcedExit.unref();
}

/**
 * Installs the handlers. `deferWrites`: tasks that check for an interruption between writes
 * (the phases) let writes in flight finish; other commands stop at once on the first signal.
 */
export function watchInterrupts({ deferWrites }: { deferWrites: boolean }): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (received || !deferWrites) exitNow(signal, `${signal} received: exiting at once`);
      received = signal;
      process.stderr.write(`\n◎ ${signal} received: ${writesInFlight ? `finishing the ${writesInFlight} write(s) in flight, then stopping` : 'stopping'} (send it again to exit at once)\n`);
      // Children that only read (renders, pulls, builds, throwaway servers) have nothing to finish.
      endChildren('SIGTERM', { writes: false });
      for (const wake of wakers) wake();
      armForcedExit();
    });
  }
  process.on('exit', () => endChildren('SIGKILL'));
}

/** The signal received, if any. */
export function interruption(): NodeJS.Signals | undefined {
  return received;
}

/** Runs a write that must not be cut short by the first signal. */
export async function duringWrite<T>(write: () => Promise<T>): Promise<T> {
  writesInFlight++;
  try {
    return await write();
  } finally {
    writesInFlight--;
    armForcedExit();
  }
}

/** The error a wait ends with after a signal: what it waited for, for how long, and how to go on. */
export function interruptedError(signal: NodeJS.Signals, what: string, since: number, detail = ''): BootstrapError {
  return new BootstrapError({
    subject: `waiting for ${what}`,
    problem: `${signal} received after ${seconds(since)}${detail ? `; ${detail}` : ''}`,
    fix: 'rerun the same target: what was applied is reported up to date, and the wait starts again',
    exitCode: interruptExitCode(signal),
  });
}

/**
 * Sleeps `ms` as part of waiting for `what` (since `since`), or throws interruptedError at once
 * when a signal arrives (before or during the sleep). Every wait loop sleeps through this.
 */
export async function pause(ms: number, what: string, since: number): Promise<void> {
  waitingFor = { what, since };
  try {
    if (!received) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        wakers.add(wake);
      });
    }
    if (received) throw interruptedError(received, what, since);
  } finally {
    waitingFor = undefined;
  }
}
