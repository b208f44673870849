// pr-check's own parts that need no sandbox: what it takes from a failed Nx run, and its options.
// The check itself runs on a git history in e2e 47.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { failureOf } from '../../scripts/pr-check/cluster-checks.ts';

const exec = promisify(execFile);

describe('pr-check', () => {
  it("keeps a failed task's own message, not Nx's frame around it", () => {
    const output = [
      '> nx run infra:render-crds',
      '✗ render-crds failed: helmfile.d/00-crds.yaml.gotmpl:33 and helmfile.d/01-core.yaml.gotmpl:51: chart … is pinned at two versions',
      '  fix: pin one version in both lines',
      'Warning: command "node tasks/render-crds.ts --cluster infra" exited with non-zero status code',
      ' NX   Running target audit for project infra and 1 task it depends on failed',
    ].join('\n');
    expect(failureOf(output)).toBe('✗ render-crds failed: helmfile.d/00-crds.yaml.gotmpl:33 and helmfile.d/01-core.yaml.gotmpl:51: chart … is pinned at two versions\n  fix: pin one version in both lines');
    expect(failureOf('line one\n\nsomething else broke\n')).toBe('line one\nsomething else broke');
  });

  it('refuses to run without --base, saying how to call it', async () => {
    const result = await exec(process.execPath, ['scripts/pr-check.ts', '--format', 'markdown'], { cwd: workspaceRoot }).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 2, stderr: '✗ pr-check failed: pr-check: needs --base <git ref>\n  fix: npm run pr-check -- --base origin/main [--format markdown]\n' });
  });
});
