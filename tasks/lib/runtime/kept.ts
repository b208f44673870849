// A value computed once per key and kept in dist/<folder>/ (git-ignored), for answers that are a
// pure function of what the key names: a changed input is another key, never a stale answer.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from './input-hash.ts';
import { paths } from './workspace.ts';

export async function keptByKey<T>(folder: string, key: string, compute: () => Promise<T>): Promise<T> {
  const file = path.join(paths.dist, folder, `${sha256(key)}.json`);
  const kept = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as T,
    () => undefined,
  );
  if (kept !== undefined) return kept;
  const value = await compute();
  await mkdir(path.dirname(file), { recursive: true });
  // Written whole, then renamed: a reader never sees half a file (two clusters run side by side).
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(value));
  await rename(partial, file);
  return value;
}
