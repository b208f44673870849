// Every child process (helm, helmfile, git, flux-build, the throwaway etcd and kube-apiserver) is
// started in a process group of its own, led by a small shell that ends the whole group when
// it is told to or when this process dies (Linux's parent-death signal, set by util-linux
// setpriv): helmfile's helm children go with it, even after a SIGKILL of this process.
// The runner ends what is left on exit, on a signal and on a failure (endChildren).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

interface Running {
  name: string;
  /** A write (helm install/upgrade): the first SIGINT/SIGTERM lets it finish. */
  write: boolean;
}

const running = new Map<number, Running>();

// The leader runs the tool in the background (stdin passed on explicitly: a background job's
// stdin would be /dev/null), waits for it, and on TERM/INT/HUP kills the group it leads.
const LEADER = 'trap "kill -KILL 0" TERM INT HUP; exec 3<&0; "$@" <&3 3<&- & wait $!';
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Where `tool` is on PATH, or undefined: a missing tool is known before anything is spawned. */
export function resolveTool(tool: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (tool.includes('/')) return existsSync(tool) ? tool : undefined;
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', tool);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The command line that runs `binary args` as the leader of its own process group. */
export function groupCommand(binary: string, args: string[]): { command: string; args: string[] } {
  const shell = ['sh', '-c', LEADER, 'sh', binary, ...args];
  return SETPRIV ? { command: SETPRIV, args: ['--pdeathsig', 'TERM', '--', ...shell] } : { command: shell[0]!, args: shell.slice(1) };
}

/** Starts `binary` in its own process group, tracked until it exits. */
export function startChild(binary: string, args: string[], options: SpawnOptions & { name?: string; write?: boolean } = {}): ChildProcess {
  const { name = path.basename(binary), write = false, ...spawnOptions } = options;
  const { command, args: argv } = groupCommand(binary, args);
  const child = spawn(command, argv, { ...spawnOptions, detached: true });
  const pid = child.pid;
  if (pid) {
    running.set(pid, { name, write });
    child.once('exit', () => running.delete(pid));
  }
  return child;
}

/**
 * A spawn for zx's `spawn` option: zx's shell (and so the tool) runs in a group of its own.
 * `write`: the tool changes a cluster (helmfile sync) and is let finish on the first signal.
 */
export function groupSpawn(name: string, write = false): typeof spawn {
  return ((command: string, args: readonly string[] | SpawnOptions, options?: SpawnOptions) => {
    // zx hands over one command line for its shell: spawn(cmd, { shell }).
    const opts = (Array.isArray(args) ? options : args) ?? {};
    const { shell, ...rest } = opts as SpawnOptions;
    if (!shell) return startChild(command, [...(args as string[])], { ...rest, name, write });
    return startChild(typeof shell === 'string' ? shell : '/bin/sh', ['-c', command], { ...rest, name, write });
  }) as typeof spawn;
}

/** Ends the process groups still running (all, or only writes / only non-writes). Never throws. */
export function endChildren(signal: NodeJS.Signals, { writes }: { writes?: boolean } = {}): string[] {
  const ended: string[] = [];
  for (const [pid, child] of running) {
    if (writes !== undefined && child.write !== writes) continue;
    try {
      process.kill(-pid, signal);
      ended.push(child.name);
    } catch {
      // Already gone.
    }
    if (signal === 'SIGKILL') running.delete(pid);
  }
  return ended;
}

/** Stops a child: SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
