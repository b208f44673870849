// A new phase declares what it needs and gets the rest from the runner: the option check, the
// identity guard before any cluster access, the lease, the error format and the exit code.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'new-phase-'));
  script = path.join(dir, 'new-phase.mjs');
  // A phase that writes, written as a new task would be: its entry in the phase table (here a
  // table of its own), and a body with no guard, no option parsing, no lease.
  const entry = { description: 'a new phase', after: ['crds'], access: 'writes', caching: 'never', inputs: [] };
  await writeFile(
    script,
    `import { phaseTarget } from ${JSON.stringify(path.join(workspaceRoot, 'tasks/lib/runner/task.ts'))};\n` +
      `const table = { 'new-phase': ${JSON.stringify(entry)} };\n` +
      `export const target = phaseTarget('new-phase', async () => { process.stdout.write('PHASE RAN'); }, table);\n` +
      `if (import.meta.main) await target.cli();\n`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function runNewPhase(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], { env: { ...process.env, KUBECONFIG: path.join(dir, 'no-kubeconfig') } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('a new phase', () => {
  it('refuses an option it did not declare, naming the ones it takes (writes add --context, --timeout, --wait-for-lock)', async () => {
    const result = await runNewPhase(['--cluster', 'infra', '--recover']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      '✗ new-phase failed: option --recover: is not an option of new-phase\n  fix: new-phase takes --cluster <name> --context <name> --timeout <seconds> --wait-for-lock\n',
    );
    expect(result.stdout).toBe('');
  });

  it('is guarded before it runs: a cluster it cannot prove is the pinned one is never touched', async () => {
    const result = await runNewPhase(['--cluster', 'infra', '--context', 'somewhere-else']);
    expect(result.code).toBe(1);
    // Without the sandbox the kubeconfig is missing; with it, the context is: either way the
    // runner stops before the phase.
    expect(result.stderr).toMatch(/^✗ new-phase failed: (kubeconfig \S+: cannot be read|context "somewhere-else": not found in kubeconfig)/);
    expect(result.stdout).toBe('');
  });
});
