// What the e2e suite may not do: change the checkout it runs from. Tests edit copies
// (workspace-copy.ts); this is the proof that none edited, added or deleted a file git sees.
// A snapshot is taken before the suite and compared after, so work a developer had not
// committed yet is no failure, while a test that touches one of those files again still is.
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';

/** Every path `git status` reports in `root` (changed, staged, deleted, new), with its status and content hash. */
export async function checkoutState(root: string): Promise<Map<string, string>> {
  const status = await $({ cwd: root, quiet: true })`git status --porcelain=v1 -z --untracked-files=all`;
  const entries = status.stdout.split('\0');
  const state = new Map<string, string>();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (!entry) continue;
    const code = entry.slice(0, 2);
    // A staged rename or copy is followed by its source path.
    if (code[0] === 'R' || code[0] === 'C') i++;
    state.set(entry.slice(3), `${code} ${await contentHash(path.join(root, entry.slice(3)))}`);
  }
  return state;
}

async function contentHash(file: string): Promise<string> {
  const stat = await lstat(file).catch(() => undefined);
  if (!stat) return 'missing';
  if (stat.isSymbolicLink()) return `link ${await readlink(file)}`;
  if (stat.isDirectory()) return 'directory';
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** The paths whose status or content differs between two snapshots, sorted. */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
}

/** Throws, naming each path, when the checkout is not as `before` found it. */
export async function assertCheckoutUnchanged(root: string, before: Map<string, string>): Promise<void> {
  const after = await checkoutState(root);
  const changed = changedPaths(before, after);
  if (changed.length === 0) return;
  const line = (p: string) => (after.has(p) ? `  ${after.get(p)!.slice(0, 2)} ${p}` : `     ${p} (changed before the suite, now as in HEAD)`);
  throw new Error(
    `the e2e suite changed ${changed.length} path(s) of the checkout ${root} (git status --porcelain):\n${changed.map(line).join('\n')}\n` +
      '  fix: a test that needs other files edits a copy of the workspace (test/helpers/workspace-copy.ts), never the checkout',
  );
}
