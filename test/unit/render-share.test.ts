import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withRenderLock } from '../../tasks/lib/render-share.ts';
import { paths } from '../../tasks/lib/workspace.ts';

const key = (name: string) => `unit-test-${name}-${process.pid}`.padEnd(16, '0');

describe('render lock', () => {
  it('runs renders of one key one after the other; the second is told whom it waits for', async () => {
    const events: string[] = [];
    const waits: string[] = [];
    const render = (name: string) => async () => {
      events.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([
      withRenderLock(key('serial'), render('first'), (holder) => waits.push(holder)),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => withRenderLock(key('serial'), render('second'), (holder) => waits.push(holder))),
    ]);
    expect(results).toEqual(['first', 'second']);
    expect(events).toEqual(['first start', 'first end', 'second start', 'second end']);
    expect(waits).toEqual([String(process.pid)]);
  });

  it('takes over a lock whose holder is gone, and releases it even when the render fails', async () => {
    const lock = path.join(paths.dist, 'crds', `.render-${key('stale').slice(0, 16)}.lock`);
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, '999999999');
    const waits: string[] = [];
    await expect(withRenderLock(key('stale'), async () => Promise.reject(new Error('render failed')), (holder) => waits.push(holder))).rejects.toThrow('render failed');
    expect(waits).toEqual([]);
    expect(await withRenderLock(key('stale'), async () => 'again', () => undefined)).toBe('again');
  });
});
