import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLockFile, withRenderLock } from '../../tasks/lib/bundle/render-share.ts';

const key = (name: string) => `unit-test-${name}-${process.pid}`.padEnd(16, '0');
const quiet = { timeoutMs: 10_000, onWait: () => undefined, onTakeover: () => undefined };

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
    const options = { ...quiet, onWait: (holder: string) => waits.push(holder) };
    const results = await Promise.all([
      withRenderLock(key('serial'), render('first'), options),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => withRenderLock(key('serial'), render('second'), options)),
    ]);
    expect(results).toEqual(['first', 'second']);
    expect(events).toEqual(['first start', 'first end', 'second start', 'second end']);
    expect(waits).toEqual([`pid ${process.pid} on ${(await import('node:os')).hostname()}`]);
  });

  it('takes over a lock whose holder is gone, says so, and releases it even when the render fails', async () => {
    const lock = renderLockFile(key('stale'));
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, '999999999');
    const takeovers: string[] = [];
    const options = { ...quiet, onTakeover: (holder: string, why: string) => takeovers.push(`${holder}: ${why}`) };
    await expect(withRenderLock(key('stale'), async () => Promise.reject(new Error('render failed')), options)).rejects.toThrow('render failed');
    expect(takeovers).toEqual([`pid 999999999 on ${(await import('node:os')).hostname()}: pid 999999999 is not running`]);
    expect(await withRenderLock(key('stale'), async () => JSON.parse(await readFile(lock, 'utf8')).pid as number, quiet)).toBe(process.pid);
  });
});
