// SIGINT / SIGTERM (Ctrl-C, a cancelled CI job) while a phase changes a cluster: the first signal
// asks the phase to stop at its next safe point (no new write starts; writes in flight finish),
// so it can say what was done and what was not; a second signal exits at once.
let received: NodeJS.Signals | undefined;

export function watchInterrupts(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (received) process.exit(signal === 'SIGINT' ? 130 : 143);
      received = signal;
      process.stderr.write(`\n◎ ${signal} received: stopping after the writes in flight (send it again to exit at once)\n`);
    });
  }
}

/** The signal received, if any. */
export function interruption(): NodeJS.Signals | undefined {
  return received;
}

/** The exit code a shell gives a process ended by that signal. */
export function interruptExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
