// The batch executor (Nx's batch mode) runs each task's target in one process, in dependsOn
// order, and fails the tasks after a failed one without running them. The targets here are
// stand-ins that record what ran; the order and the outcomes are what is checked.
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../tasks/executor/batch.ts';
import { recordTaskOutput } from '../../tasks/executor/task-output.ts';
import type { Target } from '../../tasks/lib/runner/task.ts';

async function run(dependencies: Record<string, Array<string | { id: string }>>, exitCodes: Record<string, number>) {
  const ran: string[] = [];
  const tasks = Object.fromEntries(Object.keys(dependencies).map((id) => [id, { id }]));
  const inputs = Object.fromEntries(Object.keys(dependencies).map((id) => [id, { cluster: id.split(':')[0]!, script: id.split(':')[1]! }]));
  const load = async (script: string): Promise<Target> => ({
    name: script,
    execute: async (argv) => {
      const id = `${argv[1]}:${script}`;
      ran.push(id);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return exitCodes[id] ?? 0;
    },
    cli: async () => undefined,
  });
  const results: Record<string, boolean> = {};
  for await (const { task, result } of runBatch({ tasks, dependencies }, inputs, load)) results[task] = result.success;
  return { ran, results };
}

describe('the batch executor', () => {
  it('runs each task after its dependencies, and every task of the batch once', async () => {
    const { ran, results } = await run(
      { 'infra:prereqs': [], 'infra:render-crds': [], 'infra:crds': ['infra:prereqs', 'infra:render-crds'], 'infra:core': ['infra:crds'], 'apps:prereqs': [] },
      {},
    );
    expect(ran.indexOf('infra:crds')).toBeGreaterThan(Math.max(ran.indexOf('infra:prereqs'), ran.indexOf('infra:render-crds')));
    expect(ran.indexOf('infra:core')).toBeGreaterThan(ran.indexOf('infra:crds'));
    expect(ran.sort()).toEqual(['apps:prereqs', 'infra:core', 'infra:crds', 'infra:prereqs', 'infra:render-crds']);
    expect(Object.values(results).every(Boolean)).toBe(true);
  });

  it('a failed phase fails only itself and what depends on it; the rest of the batch runs', async () => {
    const { ran, results } = await run(
      { 'infra:prereqs': [], 'infra:crds': ['infra:prereqs'], 'infra:core': ['infra:crds'], 'apps:prereqs': [], 'apps:crds': ['apps:prereqs'] },
      { 'infra:crds': 1 },
    );
    expect(ran).not.toContain('infra:core');
    expect(results).toEqual({ 'infra:prereqs': true, 'infra:crds': false, 'infra:core': false, 'apps:prereqs': true, 'apps:crds': true });
  });

  it('reads dependencies in the { id } form Nx 24 hands a batch', async () => {
    const { ran } = await run({ 'infra:prereqs': [], 'infra:crds': [{ id: 'infra:prereqs' }] }, {});
    expect(ran).toEqual(['infra:prereqs', 'infra:crds']);
  });

  it('ignores dependencies outside the batch (a cached task Nx already replayed)', async () => {
    const { results } = await run({ 'infra:crds': ['infra:render-crds'] }, {});
    expect(results).toEqual({ 'infra:crds': true });
  });

  it('gives each task the output it wrote, two side by side interleaving, for Nx to show and cache as its own', async () => {
    recordTaskOutput();
    const load = async (script: string): Promise<Target> => ({
      name: script,
      execute: async (argv) => {
        for (let line = 1; line <= 3; line++) {
          process.stdout.write(`[${argv[1]}] ${script} line ${line}\n`);
          // Each write is a turn of the event loop: the other task writes between them.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        process.stderr.write(`[${argv[1]}] ${script} done\n`);
        return 0;
      },
      cli: async () => undefined,
    });
    const graph = { tasks: { 'infra:crds': { id: 'infra:crds' }, 'apps:crds': { id: 'apps:crds' } }, dependencies: { 'infra:crds': [], 'apps:crds': [] } };
    const inputs = { 'infra:crds': { cluster: 'infra', script: 'crds' }, 'apps:crds': { cluster: 'apps', script: 'crds' } };
    const output: Record<string, string> = {};
    for await (const { task, result } of runBatch(graph, inputs, load)) output[task] = result.terminalOutput;
    for (const cluster of ['infra', 'apps']) {
      expect(output[`${cluster}:crds`]).toBe(`[${cluster}] crds line 1\n[${cluster}] crds line 2\n[${cluster}] crds line 3\n[${cluster}] crds done\n`);
    }
  });
});
