// tasks/lib is floors of domain folders (.dependency-cruiser.cjs, docs/architecture.md). The rule is
// executable: on a copy of the engine, a planted upward import and a planted peer import fail
// dependency-cruiser, and the real tree passes. The checkout itself is never touched.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const run = promisify(execFile);
const config = createRequire(import.meta.url)(path.join(workspaceRoot, '.dependency-cruiser.cjs')) as {
  forbidden: Array<{ name: string }>;
};
const folders = config.forbidden.filter((rule) => rule.name.startsWith('layer-')).map((rule) => rule.name.slice('layer-'.length));

let copy: string;
beforeAll(async () => {
  copy = await mkdtemp(path.join(os.tmpdir(), 'layout-'));
  for (const entry of ['tasks', 'tsconfig.json', 'tsconfig.base.json', '.dependency-cruiser.cjs']) {
    await cp(path.join(workspaceRoot, entry), path.join(copy, entry), { recursive: true });
  }
  await symlink(path.join(workspaceRoot, 'node_modules'), path.join(copy, 'node_modules'));
});
afterAll(() => rm(copy, { recursive: true, force: true }));

async function cruise(): Promise<{ code: number; output: string }> {
  const bin = path.join(workspaceRoot, 'node_modules', '.bin', 'depcruise');
  try {
    const { stdout } = await run(bin, ['tasks', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: copy });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, output: failed.stdout };
  }
}

async function plant(file: string, source: string): Promise<() => Promise<void>> {
  const at = path.join(copy, file);
  await writeFile(at, source);
  return () => rm(at);
}

describe('the layering of tasks/lib', () => {
  it('has only the domain folders the rule declares, no loose files', async () => {
    const entries = await readdir(path.join(workspaceRoot, 'tasks', 'lib'), { withFileTypes: true });
    expect(entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name)).toEqual([]);
    expect(entries.map((entry) => entry.name).sort()).toEqual([...folders].sort());
  });

  it('passes on the tree as it is', async () => {
    const result = await cruise();
    expect(result.output).not.toContain('error');
    expect(result.code).toBe(0);
  });

  it('fails on an upward import: runtime reaching into the CRD phase', async () => {
    const remove = await plant('tasks/lib/runtime/planted.ts', "import { managedByUs } from '../crds/crd-plan.ts';\nexport const planted = managedByUs;\n");
    const result = await cruise();
    await remove();
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/layer-runtime.*tasks\/lib\/runtime\/planted\.ts → tasks\/lib\/crds\/crd-plan\.ts/s);
  });

  it('fails on a peer import: core reaching into crds', async () => {
    const remove = await plant('tasks/lib/core/planted.ts', "import { managedByUs } from '../crds/crd-plan.ts';\nexport const planted = managedByUs;\n");
    const result = await cruise();
    await remove();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('layer-core');
  });

  it('fails on a loose file in tasks/lib', async () => {
    const remove = await plant('tasks/lib/loose.ts', "import { BootstrapError } from './runtime/errors.ts';\nexport const loose = BootstrapError;\n");
    const result = await cruise();
    await remove();
    expect(result.output).toContain('lib-only-domain-folders');
  });
});
