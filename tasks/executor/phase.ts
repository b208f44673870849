// One target alone: tasks/<script>.ts as its own Node process, as `node tasks/<script>.ts
// --cluster <name>` would run it (the phase flags and environment of phase-process.ts). A signal
// Nx sends is passed on, so the phase can finish a write in flight and say where it stopped.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { LIVE_PROOF_ENV, PHASE_ENV, PHASE_NODE_FLAGS } from '../lib/runtime/phase-process.ts';
import { workspaceRoot } from '../lib/runtime/workspace.ts';

export interface PhaseOptions {
  script: string;
  cluster: string;
  /** --fail-on for a report (the plugin sets never for a cached one); a --fail-on in args comes later and wins. */
  failOn?: string;
  args?: string[];
}

/** What follows `--cluster <name>` on the task's command line. */
export const phaseArgs = ({ failOn, args = [] }: PhaseOptions): string[] => [...(failOn ? ['--fail-on', failOn] : []), ...args];

export default async function phase(options: PhaseOptions): Promise<{ success: boolean }> {
  const argv = [...PHASE_NODE_FLAGS.split(' '), `tasks/${options.script}.ts`, '--cluster', options.cluster, ...phaseArgs(options)];
  const child = spawn('node', argv, { cwd: workspaceRoot, env: { ...process.env, ...PHASE_ENV, [LIVE_PROOF_ENV]: '1' }, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const [code] = (await once(child, 'exit')) as [number | null];
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return { success: code === 0 };
}
