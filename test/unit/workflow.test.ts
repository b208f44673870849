// The pull-request workflow passes actionlint (built from the Go module proxy by
// scripts/build-tools.sh), which refuses a copy that points at a step that does not exist.
// Every action is pinned by commit.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const exec = promisify(execFile);
const actionlint = path.join(paths.toolsBin, 'actionlint');
const workflow = path.join(workspaceRoot, '.github', 'workflows', 'pull-request.yaml');

async function lint(cwd: string): Promise<{ code: number; output: string }> {
  expect(existsSync(actionlint), 'actionlint is not built: bash scripts/build-tools.sh actionlint').toBe(true);
  // shellcheck is no tool of this workspace: without it, the verdict is the same on every machine.
  return exec(actionlint, ['-color=false', '-shellcheck=', path.join('.github', 'workflows', 'pull-request.yaml')], { cwd }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  );
}

describe('.github/workflows/pull-request.yaml', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'workflow-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('passes actionlint', async () => {
    expect(await lint(workspaceRoot)).toEqual({ code: 0, output: '' });
  });

  it('fails actionlint once the verdict reads the output of a step that does not exist', async () => {
    await mkdir(path.join(scratch, '.github', 'workflows'), { recursive: true });
    const text = await readFile(workflow, 'utf8');
    expect(text).toContain('steps.check.outputs.exit');
    await writeFile(path.join(scratch, '.github', 'workflows', 'pull-request.yaml'), text.replaceAll('steps.check.outputs.exit', 'steps.chek.outputs.exit'));
    const result = await lint(scratch);
    expect(result.output).toContain('property "chek" is not defined');
    expect(result.code).toBe(1);
  });

  it('pins every action by a full commit, not a tag', async () => {
    const uses = [...(await readFile(workflow, 'utf8')).matchAll(/uses: (\S+)/g)].map((m) => m[1]!);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
  });
});
