import { describe, expect, it } from 'vitest';
import { onceEach } from '../../tasks/lib/runtime/once-each.ts';

describe('onceEach', () => {
  it('makes each key once while it is pending or done; a failure is made again by the next caller', async () => {
    const once = onceEach<string>();
    let calls = 0;
    const pull = (fail: boolean) => async () => {
      calls++;
      if (fail) throw new Error('not in the mirror');
      return 'spegel-0.7.4';
    };
    await expect(Promise.all([once('spegel@0.7.4', pull(false)), once('spegel@0.7.4', pull(false))])).resolves.toEqual(['spegel-0.7.4', 'spegel-0.7.4']);
    expect(calls).toBe(1);
    await expect(once('cilium@1.18.4', pull(true))).rejects.toThrow('not in the mirror');
    await expect(once('cilium@1.18.4', pull(false))).resolves.toBe('spegel-0.7.4');
    expect(calls).toBe(3);
  });
});
