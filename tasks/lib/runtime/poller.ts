// Work that runs in the background every few moments until stopped: the stand-ins of a
// rehearsal, the webhook keeper, core's progress while helm waits. One loop for all of them:
// a step that throws is the caller's to catch; `stop()` resolves once the step in flight ended.

export interface Poller {
  /** Resolves after the first step ended (or the poller stopped before it). */
  firstPass: Promise<void>;
  stop(): Promise<void>;
}

/** Runs `step` every `intervalMs` until stopped, or until a step returns 'done'. */
export function startPoller(step: () => Promise<void | 'done'>, intervalMs: number): Poller {
  let stopped = false;
  let passed: () => void = () => undefined;
  const firstPass = new Promise<void>((resolve) => (passed = resolve));
  let wake: () => void = () => undefined;
  const loop = (async () => {
    try {
      while (!stopped) {
        const outcome = await step();
        passed();
        if (outcome === 'done') return;
        // stop() ends the pause at once rather than after it.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, intervalMs);
        });
      }
    } finally {
      passed();
    }
  })();
  return {
    firstPass,
    stop: async () => {
      stopped = true;
      wake();
      await loop;
    },
  };
}
