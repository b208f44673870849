// A throwaway copy of the workspace for a test that needs a variant of its files (a pin in
// helmfile.d, a cluster's values, a new folder under clusters/). Editing the checkout instead
// changes the inputs Nx hashes under whoever works in it, and a test killed midway leaves the
// edit behind; the copy lives in the temporary folder, so the checkout stays as it was.
// It holds the workspace's files only: no rendered outputs (dist/) and no Nx cache, so a phase
// run in the copy renders what it reads, or the test copies it in.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { run, shellIn } from './sandbox.ts';

export interface WorkspaceCopy {
  root: string;
  /** Runs a command in the copy, as `run` does in the checkout. */
  run: ReturnType<typeof shellIn>;
  runWith: (env: NodeJS.ProcessEnv) => ReturnType<typeof shellIn>;
  /** The absolute path in the copy of a workspace-relative path. */
  file: (relative: string) => string;
  /** Changes a file of the copy; an edit that changes nothing is an error: the variant would be none. */
  edit: (relative: string, change: (text: string) => string) => Promise<void>;
  write: (relative: string, text: string) => Promise<void>;
}

/** Shared with the checkout, not copied: the packages, the built tools, and the running sandbox
 * (its kubeconfig is what cluster.yaml's `kubeconfig: ../../.sandbox/kubeconfig` resolves to). */
const SHARED = ['node_modules', '.tools', '.sandbox'];

/** Runs `body` in a fresh copy of the workspace, removed afterwards. */
export async function withWorkspaceCopy<T>(body: (copy: WorkspaceCopy) => Promise<T>): Promise<T> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'workspace-copy-'));
  try {
    await populate(root);
    const file = (relative: string) => path.join(root, relative);
    return await body({
      root,
      run: shellIn(root),
      runWith: (env) => shellIn(root, env),
      file,
      edit: async (relative, change) => {
        const before = await readFile(file(relative), 'utf8');
        const after = change(before);
        if (after === before) throw new Error(`the edit of ${relative} changed nothing`);
        await writeFile(file(relative), after);
      },
      write: async (relative, text) => {
        await mkdir(path.dirname(file(relative)), { recursive: true });
        await writeFile(file(relative), text);
      },
    });
  } finally {
    // fs.rm removes the shared folders' symlinks, never what they point at.
    await rm(root, { recursive: true, force: true });
  }
}

async function populate(root: string): Promise<void> {
  // What Nx sees in the checkout: tracked files as they are now, and new files not ignored.
  const listed = await run`git ls-files -z --cached --others --exclude-standard`;
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files = listed.stdout.split('\0').filter((f) => f && !SHARED.includes(f) && existsSync(path.join(workspaceRoot, f)));
  await Promise.all(files.map((f) => cp(path.join(workspaceRoot, f), path.join(root, f), { verbatimSymlinks: true })));
  for (const shared of SHARED) await symlink(path.join(workspaceRoot, shared), path.join(root, shared));
  // A repository of its own, HEAD the tree as copied: git-based checks (compare-bundles --base
  // HEAD) compare against the unedited files, and never add a worktree to the checkout's repository.
  const git = shellIn(root);
  const check = (step: string, result: { exitCode: number | null; stderr: string }) => {
    if (result.exitCode !== 0) throw new Error(`preparing the workspace copy ${root}: ${step}: ${result.stderr}`);
  };
  check('git init', await git`git init -q -b main`);
  // .gitignore's `.tools/` and `.sandbox/` match folders, not the symlinks to them.
  await writeFile(path.join(root, '.git', 'info', 'exclude'), SHARED.map((s) => `/${s}\n`).join(''));
  check('git add', await git`git add -A`);
  check('git commit', await git`git -c user.name=e2e -c user.email=e2e@localhost commit -q --no-verify -m ${'the workspace, copied for a test'}`);
}
