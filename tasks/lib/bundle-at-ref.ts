// Renders a cluster's CRD bundle as it was at a git ref, in a throwaway worktree: the base side
// of a pull-request check, without a cluster.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { BootstrapError } from './errors.ts';
import { workspaceRoot } from './workspace.ts';

export async function withBundleAtRef<T>(cluster: string, ref: string, body: (bundleDir: string) => Promise<T>): Promise<T> {
  const tree = path.join(await mkdtemp(path.join(os.tmpdir(), 'bundle-at-ref-')), 'tree');
  const git = $({ quiet: true, nothrow: true, cwd: workspaceRoot });
  const added = await git`git worktree add --detach ${tree} ${ref}`;
  if (added.exitCode !== 0) {
    throw new BootstrapError({
      subject: `git ref "${ref}"`,
      problem: `cannot check it out: ${added.stderr.trim().split('\n').at(-1)}`,
      fix: 'pass a branch, tag or commit that exists here (fetch it first in CI)',
    });
  }
  try {
    // The base commit runs its own tasks with this checkout's packages.
    await symlink(path.join(workspaceRoot, 'node_modules'), path.join(tree, 'node_modules'));
    const rendered = await $({ quiet: true, nothrow: true, cwd: tree })`node tasks/render-crds.ts --cluster ${cluster}`;
    if (rendered.exitCode !== 0) {
      throw new BootstrapError({
        subject: `cluster ${cluster} at ${ref}`,
        problem: `rendering the base bundle failed:\n${rendered.stderr.trim().split('\n').slice(-4).map((l) => `    ${l}`).join('\n')}`,
        fix: `check that clusters/${cluster} exists at ${ref}`,
      });
    }
    return await body(path.join(tree, 'dist', 'crds', cluster));
  } finally {
    await git`git worktree remove --force ${tree}`;
    await rm(path.dirname(tree), { recursive: true, force: true });
  }
}
