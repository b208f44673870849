// Nx's batch mode (an executor's batchImplementation): every phase of the run in this one process,
// so the Kubernetes client (about 1 s and 130 MiB to load) is loaded once, not once per phase.
// Each phase stays its own Nx task: run in dependsOn order (independent ones, such as two
// clusters, side by side), its result reported to Nx as it ends, so caching and the summary
// work as for a task of its own. A failed phase fails the tasks after it, which do not run.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { enableCompileCache } from 'node:module';
import type { Target } from '../lib/runner/task.ts';
import { watchInterrupts } from '../lib/runtime/interrupt.ts';
import { LIVE_PROOF_ENV, PHASE_ENV } from '../lib/runtime/phase-process.ts';
import { workspaceRoot } from '../lib/runtime/workspace.ts';
import { withToolsOnPath } from '../lib/tools/tool-identity.ts';
import { phaseArgs, type PhaseOptions } from './phase.ts';
import { captured, recordTaskOutput } from './task-output.ts';

interface TaskGraph {
  tasks: Record<string, { id: string }>;
  /** Nx 24 hands a batch its dependencies as { id } objects (pruneTaskGraph); older Nx as ids. */
  dependencies: Record<string, Array<string | { id: string }>>;
}

interface TaskResult {
  task: string;
  result: { success: boolean; terminalOutput: string; startTime?: number; endTime?: number };
}

async function targetOf(script: string): Promise<Target> {
  const module = (await import(pathToFileURL(path.join(workspaceRoot, 'tasks', `${script}.ts`)).href)) as { target?: Target };
  if (!module.target) throw new Error(`tasks/${script}.ts exports no target`);
  return module.target;
}

/** Nx calls this with the batch's task graph and each task's options. */
export default function batch(graph: TaskGraph, inputs: Record<string, PhaseOptions>): AsyncGenerator<TaskResult> {
  // What a phase process gets from runCommand and phase-process.ts, once for the whole batch.
  enableCompileCache(path.join(workspaceRoot, PHASE_ENV.NODE_COMPILE_CACHE));
  withToolsOnPath();
  process.env[LIVE_PROOF_ENV] = '1';
  watchInterrupts({ deferWrites: true });
  recordTaskOutput();
  return runBatch(graph, inputs, targetOf);
}

/** Runs the tasks in dependsOn order, each through `load(script).execute`, yielding each result as it ends. */
export async function* runBatch(graph: TaskGraph, inputs: Record<string, PhaseOptions>, load: (script: string) => Promise<Target>): AsyncGenerator<TaskResult> {
  const parallel = Number(process.env['NX_PARALLEL'] ?? 3) || availableParallelism();
  const pending = new Set(Object.keys(graph.tasks));
  const outcome = new Map<string, boolean>();
  const running = new Map<string, Promise<TaskResult>>();
  const depsOf = (id: string) => (graph.dependencies[id] ?? []).map((dep) => (typeof dep === 'string' ? dep : dep.id)).filter((dep) => dep in graph.tasks);

  while (pending.size > 0 || running.size > 0) {
    for (const id of [...pending]) {
      const failed = depsOf(id).find((dep) => outcome.get(dep) === false);
      if (failed) {
        pending.delete(id);
        outcome.set(id, false);
        process.stderr.write(`✗ ${id} not run: ${failed} failed\n`);
        yield { task: id, result: { success: false, terminalOutput: `not run: ${failed} failed\n` } };
        continue;
      }
      if (running.size >= parallel || !depsOf(id).every((dep) => outcome.get(dep) === true)) continue;
      pending.delete(id);
      const { script, cluster } = inputs[id]!;
      const startTime = Date.now();
      running.set(
        id,
        captured(() =>
          load(script)
            .then((target) => target.execute(['--cluster', cluster, ...phaseArgs(inputs[id]!)]))
            .catch((error: unknown) => {
              process.stderr.write(`✗ ${id} failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
              return 1;
            }),
        ).then(({ value: code, output }) => ({ task: id, result: { success: code === 0, terminalOutput: output, startTime, endTime: Date.now() } })),
      );
    }
    if (running.size === 0) {
      if (pending.size === 0) break;
      throw new Error(`batch: ${[...pending].join(', ')} wait for tasks that never ran`);
    }
    const done = await Promise.race(running.values());
    running.delete(done.task);
    outcome.set(done.task, done.result.success);
    yield done;
  }
}
