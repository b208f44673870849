// One benchmark measurement: a shell command under GNU time, its wall time, the CPU time of its
// process tree and the peak resident memory of its largest process.
import { $ } from 'zx';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

export interface Measure {
  seconds: number;
  /** Peak resident memory of the largest process, MiB (GNU time's %M). */
  peakMiB: number;
  /** User + system CPU seconds of the command and every child it waited for (%U + %S). */
  cpuSeconds: number;
}

export async function measure(command: string, env: NodeJS.ProcessEnv, cwd = workspaceRoot): Promise<Measure> {
  const result = await $({ quiet: true, nothrow: true, cwd, env })`/usr/bin/time -f ${'%e %M %U %S'} bash -c ${command}`;
  const [seconds, kib, user, system] = (result.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  if (result.exitCode !== 0 || !Number.isFinite(seconds)) throw new Error(`benchmark command failed (exit ${result.exitCode}): ${command}\n${result.stderr.split('\n').slice(-5).join('\n')}`);
  return { seconds: seconds!, peakMiB: kib! / 1024, cpuSeconds: user! + system! };
}
