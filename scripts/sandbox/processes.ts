// The background processes the sandbox starts itself (the chart registry, the sandbox agent):
// started detached with their output in a log file, and stopped only by the PID recorded when
// they were started, after checking that PID still runs what we started (PIDs get reused).
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

export function spawnDetached(command: string, args: string[], logFile: string): number {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  return child.pid!;
}

/** Whether `pid` is alive and its command line contains `marker` (a binary or script path). */
export function isOurProcess(pid: number, marker: string): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after five seconds. */
export async function stopProcess(pid: number, marker: string): Promise<boolean> {
  if (!isOurProcess(pid, marker)) return false;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && isOurProcess(pid, marker); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isOurProcess(pid, marker)) process.kill(pid, 'SIGKILL');
  return true;
}
