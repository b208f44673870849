// The hash of what a cached step reads: files (named by their path from the repository root) and
// values that are not files. A step whose inputs hash is unchanged would produce the same output.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { relative } from './workspace.ts';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Every file under `dir`, sorted; none if it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

/** `files` by path and content (a missing file counts as empty), then `values` by name. */
export async function inputsHash(files: string[], values: Record<string, string> = {}): Promise<string> {
  const parts: string[] = [];
  for (const file of files) parts.push(relative(file), sha256(await readFile(file, 'utf8').catch(() => '')));
  for (const [name, value] of Object.entries(values)) parts.push(name, sha256(value));
  return sha256(parts.join('\0'));
}
