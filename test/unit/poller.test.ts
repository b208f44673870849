import { describe, expect, it } from 'vitest';
import { startPoller } from '../../tasks/lib/runtime/poller.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the background poller', () => {
  it('runs its step until stopped; stop waits for the step in flight and cuts the pause short', async () => {
    let steps = 0;
    let inFlight = false;
    const poller = startPoller(async () => {
      inFlight = true;
      await tick(5);
      steps++;
      inFlight = false;
    }, 60_000);
    await poller.firstPass;
    expect(steps).toBe(1);
    // A pause of a minute: were it not cut short, this test would exceed vitest's 5 s limit.
    await poller.stop();
    expect(inFlight).toBe(false);
    expect(steps).toBe(1);
  });

  it('ends by itself once a step says done', async () => {
    let steps = 0;
    const poller = startPoller(async () => (++steps === 3 ? 'done' : undefined), 1);
    await tick(100);
    expect(steps).toBe(3);
    await poller.stop();
    expect(steps).toBe(3);
  });
});
