// The e2e suite's last check (test/e2e/global-setup.ts) catches real edits: in a scratch
// repository, an edited, a deleted and a new file are named; work left uncommitted before the
// snapshot is not, unless it is touched again.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { assertCheckoutUnchanged, changedPaths, checkoutState } from '../helpers/checkout-state.ts';

let repo: string;
const write = async (file: string, text: string) => {
  await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
  await writeFile(path.join(repo, file), text);
};

beforeEach(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'checkout-state-'));
  await write('helmfile.d/00-crds.yaml.gotmpl', 'releases: []\n');
  await write('clusters/apps/values.yaml', 'clusterName: apps\n');
  await write('README.md', 'readme\n');
  await write('.gitignore', 'dist/\n');
  const git = $({ cwd: repo, quiet: true });
  await git`git init -q`;
  await git`git add -A`;
  await git`git -c user.name=t -c user.email=t@localhost commit -q -m init`;
});
afterEach(() => rm(repo, { recursive: true, force: true }));

describe('checkout state', () => {
  it('names an edited, a deleted and a new file, and nothing git ignores', async () => {
    const before = await checkoutState(repo);
    expect(before.size).toBe(0);
    await write('helmfile.d/00-crds.yaml.gotmpl', 'releases: [edited]\n');
    await rm(path.join(repo, 'README.md'));
    await write('clusters/e2e-twin/cluster.yaml', 'context: kwok-e2e-twin\n');
    await write('dist/crds/apps/crds.yaml', 'generated\n');
    expect(changedPaths(before, await checkoutState(repo))).toEqual(['README.md', 'clusters/e2e-twin/cluster.yaml', 'helmfile.d/00-crds.yaml.gotmpl']);
    await expect(assertCheckoutUnchanged(repo, before)).rejects.toThrow(
      /changed 3 path\(s\) of the checkout .*:\n {2} D README\.md\n {2}\?\? clusters\/e2e-twin\/cluster\.yaml\n {3}M helmfile\.d\/00-crds\.yaml\.gotmpl\n {2}fix: /,
    );
  });

  it('an edit restored byte for byte is no change', async () => {
    const before = await checkoutState(repo);
    await write('clusters/apps/values.yaml', 'clusterName: edited\n');
    await write('clusters/apps/values.yaml', 'clusterName: apps\n');
    await expect(assertCheckoutUnchanged(repo, before)).resolves.toBeUndefined();
  });

  it('uncommitted work from before the snapshot is no change; touching it again, or reverting it, is', async () => {
    await write('clusters/apps/values.yaml', 'clusterName: work in progress\n');
    await write('notes.md', 'draft\n');
    const before = await checkoutState(repo);
    expect(changedPaths(before, await checkoutState(repo))).toEqual([]);
    await write('notes.md', 'draft, edited by a test\n');
    await write('clusters/apps/values.yaml', 'clusterName: apps\n');
    expect(changedPaths(before, await checkoutState(repo))).toEqual(['clusters/apps/values.yaml', 'notes.md']);
    await expect(assertCheckoutUnchanged(repo, before)).rejects.toThrow('clusters/apps/values.yaml (changed before the suite, now as in HEAD)');
  });
});
