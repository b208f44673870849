// A value computed once per key and kept in dist/<folder>/ (git-ignored), for answers that are a
// pure function of what the key names: a changed input is another key, never a stale answer.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from './input-hash.ts';
import { paths } from './workspace.ts';
import { writeWhole } from './write-whole.ts';

/**
 * One computation per file at a time in this process: two callers asking the same key at once
 * (the audit lists 01-core's releases twice, in parallel) share it, instead of both writing the
 * same partial file and one rename failing with ENOENT (seen in CI on a cold dist/).
 */
const inFlight = new Map<string, Promise<unknown>>();

export function keptByKey<T>(folder: string, key: string, compute: () => Promise<T>): Promise<T> {
  const file = path.join(paths.dist, folder, `${sha256(key)}.json`);
  const running = inFlight.get(file);
  if (running) return running as Promise<T>;
  const kept = readOrCompute(file, compute).finally(() => inFlight.delete(file));
  inFlight.set(file, kept);
  return kept;
}

async function readOrCompute<T>(file: string, compute: () => Promise<T>): Promise<T> {
  const kept = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as T,
    () => undefined,
  );
  if (kept !== undefined) return kept;
  const value = await compute();
  await writeWhole(file, JSON.stringify(value));
  return value;
}
