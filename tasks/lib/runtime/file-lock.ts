// A lock file that knows its holder (PID, start time, host; process-identity.ts). A holder that
// is gone, or whose PID now belongs to another process, is taken over, and the caller is told
// why. A live holder, or one on another host (a shared folder), is waited for until the
// deadline, never for ever; a signal stops the wait at once.
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BootstrapError } from './errors.ts';
import { pause } from './interrupt.ts';
import { describeHolder, holderState, selfIdentity, type ProcessIdentity } from './process-identity.ts';

export interface FileLockOptions {
  /** What holding it means, for messages: "the render of these inputs". */
  what: string;
  timeoutMs: number;
  onWait(holder: string): void;
  onTakeover(holder: string, why: string): void;
  intervalMs?: number;
}

function parseHolder(text: string): ProcessIdentity | undefined {
  try {
    const value = JSON.parse(text) as Partial<ProcessIdentity>;
    if (typeof value.pid === 'number' && typeof value.host === 'string') return { pid: value.pid, host: value.host, start: String(value.start ?? '') };
  } catch {
    // Not ours, or an older lock holding a bare PID: judged below.
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, host: selfIdentity().host, start: '' } : undefined;
}

/** Removes the lock only if it still holds `seen`: of two runs taking over one stale lock, one wins. */
async function takeOver(file: string, seen: string): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(file, aside);
  } catch {
    return; // Someone else moved it first.
  }
  if ((await readFile(aside, 'utf8').catch(() => '')) !== seen) {
    // A fresh lock taken between our read and the rename: put it back (unless another exists now).
    await link(aside, file).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

export async function withFileLock<T>(file: string, body: () => Promise<T>, { what, timeoutMs, onWait, onTakeover, intervalMs = 200 }: FileLockOptions): Promise<T> {
  const mine = JSON.stringify(selfIdentity());
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      await writeFile(file, mine, { flag: 'wx' });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        await mkdir(path.dirname(file), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw error;
    }
    const seen = await readFile(file, 'utf8').catch(() => undefined);
    if (seen === undefined) continue; // Released just now.
    const holder = parseHolder(seen);
    const state = holder ? holderState(holder) : ({ state: 'gone', why: 'the lock file is not readable as a holder' } as const);
    if (state.state === 'gone') {
      onTakeover(holder ? describeHolder(holder) : 'unknown', state.why);
      await takeOver(file, seen);
      continue;
    }
    const who = describeHolder(holder!);
    if (Date.now() - started >= timeoutMs) {
      throw new BootstrapError({
        subject: path.basename(file),
        problem: `${what} is still held by ${who} after ${Math.round(timeoutMs / 1000)}s`,
        fix:
          state.state === 'elsewhere'
            ? `it is held from another host: let that run finish, or delete ${file} if it crashed`
            : `wait for pid ${holder!.pid} to finish, or rerun with a longer --timeout`,
      });
    }
    if (!announced) onWait(who);
    announced = true;
    await pause(intervalMs, `${what} (held by ${who})`, started);
  }
  try {
    return await body();
  } finally {
    await rm(file, { force: true });
  }
}
