// A value computed once per key and kept in dist/<folder>/ (git-ignored), for answers that are a
// pure function of what the key names: a changed input is another key, never a stale answer.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from './input-hash.ts';
import { paths } from './workspace.ts';
import { writeWhole } from './write-whole.ts';

export async function keptByKey<T>(folder: string, key: string, compute: () => Promise<T>): Promise<T> {
  const file = path.join(paths.dist, folder, `${sha256(key)}.json`);
  const kept = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as T,
    () => undefined,
  );
  if (kept !== undefined) return kept;
  const value = await compute();
  await writeWhole(file, JSON.stringify(value));
  return value;
}
