// The pull-request check on a real git history: a temporary clone of the workspace (as it is,
// uncommitted files included) is the base commit; a commit on top bumps the VictoriaMetrics CRD
// chart, and `npm run pr-check -- --base HEAD~1` judges it with no cluster. The keyed-list variant
// (VictoriaMetrics CRDs 0.13.0's change) must fail naming the tree's VMRule that the API server
// rejects; a harmless bump must pass. The checkout itself is never edited.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { $ } from 'zx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { mermaidBlock, parseMermaid } from '../helpers/mermaid.ts';
import { testEnv } from '../helpers/sandbox.ts';
import { pin, publishVariant, VMRULES, vmKeyedList } from '../helpers/variants.ts';

const exec = promisify(execFile);
let clone: string;
const inClone = () => $({ quiet: true, nothrow: true, cwd: clone, env: testEnv() });
const git = (...args: string[]) => inClone()`git -c user.name=e2e -c user.email=e2e@localhost ${args}`;

/** A repository holding the workspace's files as they are now, as its one commit. */
async function cloneWorkspace(): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'pr-check-')), 'repo');
  const { stdout } = await exec('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: workspaceRoot, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split('\n').filter(Boolean)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await copyFile(path.join(workspaceRoot, file), path.join(dir, file)).catch(() => undefined); // a file deleted but not yet staged
  }
  // The installed packages and built tools are shared, as a worktree of the base shares them.
  await symlink(path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules'));
  await symlink(path.join(workspaceRoot, '.tools'), path.join(dir, '.tools'));
  return dir;
}

/** Resets the clone to its base commit and commits one edit of helmfile.d/00-crds on top. */
async function commitBump(to: string): Promise<void> {
  expect((await git('reset', '-q', '--hard', 'base')).exitCode).toBe(0); // the tag of the first commit
  const file = path.join(clone, 'helmfile.d', '00-crds.yaml.gotmpl');
  const before = await readFile(file, 'utf8');
  const after = pin('victoria-metrics-operator-crds', '0.14.0', to)(before);
  expect(after).not.toBe(before);
  await writeFile(file, after);
  expect((await git('commit', '-q', '-am', `bump victoria-metrics-operator-crds to ${to}`)).exitCode).toBe(0);
}

const prCheck = () => inClone()`node scripts/pr-check.ts --base HEAD~1 --format markdown`;

beforeAll(async () => {
  await publishVariant({ chart: 'victoria-metrics-operator-crds', from: '0.14.0', to: '0.17.0-e2e', edit: { [VMRULES]: vmKeyedList } });
  await publishVariant({ chart: 'victoria-metrics-operator-crds', from: '0.14.0', to: '0.15.7-e2e', edit: { [VMRULES]: (t) => t.replace('Rule describes an alerting or recording rule.', 'Rule describes an alerting or recording rule (0.15.7).') } });
  clone = await cloneWorkspace();
  expect((await git('init', '-q', '-b', 'main')).exitCode).toBe(0);
  expect((await git('add', '-A')).exitCode).toBe(0);
  expect((await git('commit', '-q', '-m', 'base: the workspace as it is')).exitCode).toBe(0);
  expect((await git('tag', 'base')).exitCode).toBe(0);
});

afterAll(async () => {
  if (clone) await rm(path.dirname(clone), { recursive: true, force: true });
});

describe('npm run pr-check on a git history', () => {
  it('fails a bump to the keyed-list VictoriaMetrics CRDs, naming the VMRule the API server rejects', async () => {
    await commitBump('0.17.0-e2e');
    const result = await prCheck();
    expect(result.exitCode, result.stderr).toBe(1);
    const markdown = result.stdout;
    expect(markdown).toMatch(/^## ✗ pr-check: \d+ of \d+ checks failed\n\nClusters affected by the changes since `HEAD~1`: `apps`, `infra`/);
    for (const cluster of ['apps', 'infra']) {
      expect(markdown).toMatch(new RegExp(`### ✗ compare-bundles ${cluster}: [1-9]\\d* breaking, 0 dropped, 0 added\n`));
      expect(markdown).toMatch(new RegExp(`### ✗ upgrade-check ${cluster}: [1-9]\\d* of \\d+ objects rejected`));
      expect(markdown).toContain(`### ✔ audit ${cluster}: `);
    }
    expect(markdown).toContain('- **list-type-tightened** `vmrules.operator.victoriametrics.com` (version v1beta1, field .spec.groups\\[\\].rules)');
    expect(markdown).toMatch(
      /- \*\*rejected\*\* VMRule observability\/kube-apiserver-burnrate \(`kubernetes\/apps\/observability\/rules\/app\/kube-apiserver-burnrate-vmrule\.yaml`\) by `vmrules\.operator\.victoriametrics\.com v1beta1`<br>\n {2}.*Duplicate value: .*KubeAPIErrorBudgetBurn/,
    );
    // The recording rules keep their shape under the new CRD: only what it refuses is named.
    expect(markdown).not.toContain('node-recording');
    await expect(parseMermaid(mermaidBlock(markdown)!)).resolves.toMatchObject({ diagramType: 'flowchart-v2' });
    expect((await git('worktree', 'list')).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('passes a harmless bump of the same chart', async () => {
    await commitBump('0.15.7-e2e');
    const result = await prCheck();
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^## ✔ pr-check: 6 checks passed\n/);
    expect(result.stdout).toMatch(/### ✔ upgrade-check infra: 0 of \d+ objects rejected/);
    expect(result.stdout).toContain('### ✔ compare-bundles infra: 0 breaking, 0 dropped, 0 added');
  });

  it('checks no cluster when nothing a cluster reads changed', async () => {
    expect((await git('reset', '-q', '--hard', 'base')).exitCode).toBe(0);
    await mkdir(path.join(clone, 'docs'), { recursive: true });
    await writeFile(path.join(clone, 'docs', 'notes.md'), 'a note\n');
    expect((await git('add', '-A')).exitCode).toBe(0);
    expect((await git('commit', '-q', '-m', 'a note')).exitCode).toBe(0);
    const result = await prCheck();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('## ✔ pr-check: no cluster is affected by the changes since `HEAD~1`\n');
  });
});
