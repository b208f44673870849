// Which helm and helmfile binaries a run uses, by file identity (resolved path, size, mtime), read
// without starting them. It is the `tools` Nx runtime input of the cached targets (tasks/tool-identity.ts)
// and the key under which checkTools keeps the versions it checked: starting helm and helmfile to
// ask costs about 0.4 s, a stat a millisecond. Light on purpose: Nx runs it on every hash.
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveTool } from '../runtime/children.ts';
import { paths } from '../runtime/workspace.ts';

export const CHECKED_TOOLS = ['helm', 'helmfile'] as const;

/** Puts the workspace's built tools (scripts/build-tools.sh) first on PATH, when present. */
export function withToolsOnPath(env: NodeJS.ProcessEnv = process.env): void {
  const current = env['PATH'] ?? '';
  if (existsSync(paths.toolsBin) && !current.split(path.delimiter).includes(paths.toolsBin)) {
    env['PATH'] = `${paths.toolsBin}${path.delimiter}${current}`;
  }
}

/** One line per tool: `helm /real/path <size> <mtime>`, or `helm missing`. A replaced binary is a new line. */
export function toolIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return CHECKED_TOOLS.map((tool) => {
    const found = resolveTool(tool, env);
    if (!found) return `${tool} missing`;
    const real = realpathSync(found);
    const { size, mtimeMs } = statSync(real);
    return `${tool} ${real} ${size} ${mtimeMs}`;
  }).join('\n');
}
