// Renders a cluster's CRD bundle as it was at a git ref, in a throwaway worktree: the base side
// of a pull-request check, without a cluster.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTool, toolShell } from '../tools/run-tool.ts';
import { workspaceRoot } from '../runtime/workspace.ts';

export async function withBundleAtRef<T>(clusterName: string, ref: string, body: (bundleDir: string) => Promise<T>): Promise<T> {
  const tree = path.join(await mkdtemp(path.join(os.tmpdir(), 'bundle-at-ref-')), 'tree');
  await runTool({
    tool: 'git',
    args: ['worktree', 'add', '--detach', tree, ref],
    cwd: workspaceRoot,
    cluster: clusterName,
    logName: 'git-worktree-add',
    subject: `git ref "${ref}"`,
    action: 'git worktree add',
    fix: 'pass a branch, tag or commit that exists here (fetch it first in CI)',
  });
  try {
    // The base commit runs its own tasks with this checkout's packages.
    await symlink(path.join(workspaceRoot, 'node_modules'), path.join(tree, 'node_modules'));
    await runTool({
      tool: 'node',
      args: ['tasks/render-crds.ts', '--cluster', clusterName],
      cwd: tree,
      cluster: clusterName,
      logName: 'render-crds-at-ref',
      subject: `cluster ${clusterName} at ${ref}`,
      action: 'rendering the base bundle',
      fix: `check that clusters/${clusterName} exists at ${ref}`,
    });
    return await body(path.join(tree, 'dist', 'crds', clusterName));
  } finally {
    // Cleanup: a worktree git cannot remove is removed with its folder below.
    await toolShell('git', { cwd: workspaceRoot })`git worktree remove --force ${tree}`;
    await rm(path.dirname(tree), { recursive: true, force: true });
  }
}
