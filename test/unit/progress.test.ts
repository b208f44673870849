import { describe, expect, it } from 'vitest';
import { createProgress } from '../../tasks/lib/runtime/progress.ts';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let written = '';
  const stream = { isTTY: false, write: (chunk: string) => ((written += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => written };
}

describe('progress without a terminal', () => {
  it('prints only when what is missing changes, at most every interval; elapsed time alone is no change', () => {
    const { stream, text } = sink();
    const progress = createProgress(stream, { prefix: '[apps] ', timeoutMs: 300_000, plainIntervalMs: 5_000 });
    const pending = [{ key: 'coredns', text: 'coredns (Deployment) 1/2 available, 1 pod Pending' }];
    const ready = [{ key: 'coredns', text: '1 workload(s) ready' }];
    progress.update(pending, 2_000);
    progress.update(pending, 30_000); // only the elapsed time changed: nothing printed
    expect(text()).toBe('[apps] ◎ coredns: coredns (Deployment) 1/2 available, 1 pod Pending (2s of 300s)\n');
    progress.update(ready, 32_000);
    progress.update(ready, 34_000);
    progress.update(pending, 35_000); // changed again, but within 5s of the last print
    expect(text().split('\n').filter(Boolean)).toEqual([
      '[apps] ◎ coredns: coredns (Deployment) 1/2 available, 1 pod Pending (2s of 300s)',
      '[apps] ◎ coredns: 1 workload(s) ready (32s of 300s)',
    ]);
    progress.update(pending, 37_000);
    expect(text().split('\n').filter(Boolean).at(-1)).toBe('[apps] ◎ coredns: coredns (Deployment) 1/2 available, 1 pod Pending (37s of 300s)');
  });
});
