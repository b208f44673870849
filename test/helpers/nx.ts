// Asking Nx which tasks a change affects, from its task graph (Nx 24 computes affected tasks).
import { run } from './sandbox.ts';

export async function affectedTasks(targets: string[], file: string): Promise<string[]> {
  const result = await run`nx affected -t ${targets} --files=${file} --graph=stdout`;
  if (result.exitCode !== 0) throw new Error(`nx affected failed: ${result.stderr}`);
  const graph = JSON.parse(result.stdout) as { tasks: { tasks: Record<string, unknown> } };
  return Object.keys(graph.tasks.tasks).sort();
}
