// Peak memory of a whole process tree while a command runs: every process below it, plus any
// process whose command line names one of `marks` (daemons it started that left its tree, such as
// the kwok components kwokctl runs). Sampled from /proc every 250 ms; the peak is of the sum.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

interface Proc { pid: number; ppid: number; rssKiB: number; cmdline: string }

function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      found.push({ pid: Number(entry), ppid, rssKiB, cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // Gone while we read it.
    }
  }
  return found;
}

export interface TreeMeasure {
  seconds: number;
  peakMiB: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function measureTree(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; marks?: RegExp }): Promise<TreeMeasure> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakKiB = 0;
  let done = false;
  const exited = once(child, 'exit').then(([code]) => {
    done = true;
    return code as number | null;
  });
  while (!done) {
    const all = processes();
    const ours = new Set([child.pid!]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of all) if (ours.has(p.ppid) && !ours.has(p.pid)) (ours.add(p.pid), (grew = true));
    }
    const total = all.filter((p) => ours.has(p.pid) || (options.marks?.test(p.cmdline) ?? false)).reduce((sum, p) => sum + p.rssKiB, 0);
    peakKiB = Math.max(peakKiB, total);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { seconds: (Date.now() - started) / 1000, peakMiB: peakKiB / 1024, code: await exited, stdout, stderr };
}
