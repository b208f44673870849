// The `tools` runtime input and the key of the checked versions: which helm and helmfile binaries
// are on PATH, read by stat. A binary replaced in place, or another one first on PATH, is another
// identity; the same binaries are the same identity, so their versions are not asked again.
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toolIdentity } from '../../tasks/lib/tools/tool-identity.ts';

const root = await mkdtemp(path.join(os.tmpdir(), 'tool-identity-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function binary(dir: string, tool: string, body: string, mtime: Date): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, tool);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  await utimes(file, mtime, mtime);
}

describe('toolIdentity', () => {
  it('changes when a binary is replaced or another one comes first on PATH, and only then', async () => {
    const bin = path.join(root, 'bin');
    const then = new Date('2026-01-01T00:00:00Z');
    await binary(bin, 'helm', 'echo v4.3.1', then);
    await binary(bin, 'helmfile', 'echo v1.7.4', then);
    const env = { PATH: bin };

    const first = toolIdentity(env);
    expect(first).toContain(`helm ${path.join(bin, 'helm')}`);
    expect(first).toContain(`helmfile ${path.join(bin, 'helmfile')}`);
    expect(toolIdentity(env)).toBe(first);

    await binary(bin, 'helm', 'echo v4.4.0', new Date('2026-02-01T00:00:00Z'));
    const replaced = toolIdentity(env);
    expect(replaced).not.toBe(first);

    const other = path.join(root, 'other');
    await binary(other, 'helmfile', 'echo v1.8.0', then);
    expect(toolIdentity({ PATH: `${other}${path.delimiter}${bin}` })).not.toBe(replaced);
  });

  it('names a tool that is not on PATH as missing instead of failing', () => {
    expect(toolIdentity({ PATH: path.join(root, 'nowhere') })).toBe('helm missing\nhelmfile missing');
  });
});
