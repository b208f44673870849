// The full output of a failed helm or helmfile run, kept in a file under the workspace: an error
// message shows the last lines, and names this file for the rest (file:line of a template error
// is often further up). Secrets never reach helm or helmfile here (prereqs applies them itself).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { paths, relative } from './workspace.ts';

/** Writes .logs/<cluster>/<name>.log and returns its path relative to the workspace. */
export async function saveToolLog(clusterName: string, name: string, text: string): Promise<string> {
  const dir = path.join(paths.logs, clusterName);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.log`);
  await writeFile(file, text);
  return relative(file);
}

/**
 * The last `count` distinct non-empty lines of what helm said, indented for an error message.
 * helmfile repeats helm's error after "COMBINED OUTPUT:"; a line already shown is not shown again.
 */
export function tail(text: string, count = 12): string {
  // helmfile dumps helm's arguments before "STDERR:"; what helm said comes after it.
  const stderrAt = text.lastIndexOf('STDERR:');
  const said = stderrAt >= 0 ? text.slice(stderrAt + 'STDERR:'.length) : text;
  const lines = [...new Set(said.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() && !/^\s*COMBINED OUTPUT:\s*$/.test(l)))];
  return lines
    .slice(-count)
    .map((line) => `    ${line.trim()}`)
    .join('\n');
}
