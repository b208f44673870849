// The sandbox's state folder (.sandbox/, git-ignored): kubeconfig, kwok workdir, registry data,
// and sandbox.json recording the registry and agent `up` started, so `down` stops exactly those (the kwok
// clusters are listed by kwokctl from its own working folder).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../../tasks/lib/runtime/workspace.ts';

export const sandboxPaths = {
  root: paths.sandbox,
  kubeconfig: path.join(paths.sandbox, 'kubeconfig'),
  kwokWorkdir: path.join(paths.sandbox, 'kwok'),
  registryDir: path.join(paths.sandbox, 'registry'),
  chartsDir: path.join(paths.sandbox, 'charts'),
  agentDir: path.join(paths.sandbox, 'agent'),
  stateFile: path.join(paths.sandbox, 'sandbox.json'),
};

export interface SandboxState {
  registry?: { pid: number; address: string };
  /** version: the hash of the agent's code and simulations it was started with. */
  agent?: { pid: number; version?: string };
}

export async function readState(): Promise<SandboxState> {
  if (!existsSync(sandboxPaths.stateFile)) return {};
  return JSON.parse(await readFile(sandboxPaths.stateFile, 'utf8')) as SandboxState;
}

export async function writeState(state: SandboxState): Promise<void> {
  await mkdir(sandboxPaths.root, { recursive: true });
  await writeFile(sandboxPaths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** The environment every sandbox tool runs with: built tools first, kwok state inside .sandbox/. */
export function sandboxEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${paths.toolsBin}${path.delimiter}${process.env['PATH'] ?? ''}`,
    KWOK_WORKDIR: sandboxPaths.kwokWorkdir,
  };
}
