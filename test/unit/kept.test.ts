// keptByKey: two callers asking the same key at once share one computation and one write
// (two writes of one partial file made a rename fail with ENOENT in CI).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keptByKey } from '../../tasks/lib/runtime/kept.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';

const folder = `.kept-test-${process.pid}`;
afterAll(() => rm(path.join(paths.dist, folder), { recursive: true, force: true }));

describe('keptByKey', () => {
  it('computes a key once when asked twice at once, and reads it back afterwards', async () => {
    let computed = 0;
    const compute = async () => {
      computed++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { releases: ['cert-manager'] };
    };
    const [a, b] = await Promise.all([keptByKey(folder, 'same', compute), keptByKey(folder, 'same', compute)]);
    expect(a).toEqual({ releases: ['cert-manager'] });
    expect(b).toEqual(a);
    expect(computed).toBe(1);
    expect(await keptByKey(folder, 'same', compute)).toEqual(a);
    expect(computed).toBe(1);
  });
});
