// Who a process is, beyond its PID: a PID is reused after its process ends, so a lock or lease
// that records only a PID can be "held" by an unrelated process for ever. The start time (from
// /proc, with the boot it belongs to) and the host tell the holder apart from a namesake.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** "<boot id>:<start time in clock ticks since boot>", or "" where /proc has none. */
  start: string;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The start of process `pid` as /proc records it; undefined when no such process exists. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3,
    // starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${bootId()}:${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** The parent of `pid` and its command name, from /proc; undefined where /proc has none. */
function parentOf(pid: number): { pid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return { pid: ppid, comm: readFileSync(`/proc/${ppid}/comm`, 'utf8').trim() };
  } catch {
    return undefined;
  }
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash']);

/**
 * The process that started this one through any shells in between (Nx runs a runtime input as
 * `sh -c …`), as "<pid>@<start>": the same for every command one Nx run starts, another for the
 * next run. undefined where /proc has none.
 */
export function invokerIdentity(): string | undefined {
  let parent = parentOf(process.pid);
  while (parent && SHELLS.has(parent.comm)) parent = parentOf(parent.pid);
  const start = parent && processStart(parent.pid);
  return parent && start ? `${os.hostname()}:${parent.pid}@${start}` : undefined;
}

export function selfIdentity(): ProcessIdentity {
  return { host: os.hostname(), pid: process.pid, start: processStart(process.pid) ?? '' };
}

export type HolderState = { state: 'alive' } | { state: 'gone'; why: string } | { state: 'elsewhere' };

/** Whether the recorded holder still runs: on this host, by PID and start time; another host's cannot be checked. */
export function holderState(holder: ProcessIdentity): HolderState {
  if (holder.host !== os.hostname()) return { state: 'elsewhere' };
  const start = processStart(holder.pid);
  if (start === undefined) return { state: 'gone', why: `pid ${holder.pid} is not running` };
  if (!holder.start) return { state: 'gone', why: `it records no start time, so pid ${holder.pid} (running now) cannot be proven to be it` };
  if (start !== holder.start) return { state: 'gone', why: `pid ${holder.pid} now belongs to another process (started later)` };
  return { state: 'alive' };
}

export const describeHolder = (h: ProcessIdentity) => `pid ${h.pid} on ${h.host}`;
