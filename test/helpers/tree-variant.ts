// Variants of the example GitOps tree for the audit and the rehearsal: a copy of kubernetes/ in a
// fresh temporary folder, with edits, judged through --gitops-root. The tracked tree is never edited.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

/** Copies made since the last removeTreeVariants(). */
const copies: string[] = [];

/** A copy of the example tree with edits (path under kubernetes/ → text → text); an edit that changes nothing is an error. */
export async function treeVariant(edits: Record<string, (text: string) => string>, prefix = 'gitops-variant-'): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  copies.push(root);
  await cp(path.join(workspaceRoot, 'kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const target = path.join(root, 'kubernetes', file);
    const before = await readFile(target, 'utf8').catch(() => '');
    const after = edit(before);
    if (after === before) throw new Error(`variant edit of ${file} changed nothing`);
    // An edit may add a file in a new folder (a new app).
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, after);
  }
  return root;
}

export async function removeTreeVariants(): Promise<void> {
  for (const root of copies.splice(0)) await rm(root, { recursive: true, force: true });
}
