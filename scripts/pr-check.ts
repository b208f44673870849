// npm run pr-check -- --base <ref> [--format markdown]
// The pull-request check in one command (docs/pull-requests.md). For each cluster the change
// affects (nx show projects --affected): render-crds, audit, compare-bundles against the base and
// upgrade-check of the tree's objects against the CRDs that changed (scripts/pr-check/cluster-checks.ts).
// No cluster is read. The reports print one after another (Markdown: one pull-request comment).
// Exit 0 all clean, 1 findings, 2 a check could not run.
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { clusterNames } from '../tasks/lib/model/config.ts';
import { OPTIONS } from '../tasks/lib/runner/options.ts';
import { ReportExit, runCommand } from '../tasks/lib/runner/task.ts';
import { BootstrapError } from '../tasks/lib/runtime/errors.ts';
import { createLogger } from '../tasks/lib/runtime/log.ts';
import { code, markdownReport, md } from '../tasks/lib/runtime/markdown.ts';
import { workspaceRoot } from '../tasks/lib/runtime/workspace.ts';
import { checkCluster, type Check } from './pr-check/cluster-checks.ts';

const log = createLogger(process.stderr, '[pr-check] ');

/** The clusters whose files, or the files every cluster reads (helmfile.d, the tree, the engine), changed since the base. */
async function affectedClusters(base: string): Promise<string[]> {
  const run = await $({ cwd: workspaceRoot, nothrow: true, quiet: true, env: { ...process.env, NX_DAEMON: 'false' } })`nx show projects --affected --base ${base} --json`;
  if (run.exitCode !== 0) {
    throw new BootstrapError({ subject: `--base ${base}`, problem: `nx show projects --affected failed: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`, fix: 'pass a branch, tag or commit that exists here (in CI, fetch it: actions/checkout with fetch-depth: 0)' });
  }
  const clusters = new Set(await clusterNames());
  return (JSON.parse(run.stdout) as string[]).filter((project) => clusters.has(project)).sort();
}

const exitOf = (check: Check) => ('error' in check ? ReportExit.error : check.result.clean ? ReportExit.clean : ReportExit.findings);

function asMarkdown(check: Check): string {
  if ('error' in check) return markdownReport({ title: check.title, clean: false, summary: 'could not run', findings: [md(check.error.split('\n')[0]!)], text: check.error });
  return markdownReport({ title: check.title, clean: check.result.clean, text: check.result.text, ...check.result.markdown });
}

const asText = (check: Check) => `== ${check.title}\n${'error' in check ? `✗ ${check.error}` : check.result.text}`;

function heading(base: string, clusters: string[], checks: Check[]): string {
  const failed = checks.filter((c) => exitOf(c) !== ReportExit.clean).length;
  if (clusters.length === 0) return `## ✔ pr-check: no cluster is affected by the changes since ${code(base)}`;
  const verdict = failed ? `✗ pr-check: ${failed} of ${checks.length} checks failed` : `✔ pr-check: ${checks.length} checks passed`;
  return `## ${verdict}\n\nClusters affected by the changes since ${code(base)}: ${clusters.map(code).join(', ')}`;
}

await runCommand('pr-check', ReportExit.error, async () => {
  const { values } = parseArgs({ options: { base: { type: 'string' }, format: { type: 'string' } } });
  const format = OPTIONS.format.schema.safeParse(values.format);
  if (!values.base || !format.success) {
    throw new BootstrapError({ subject: 'pr-check', problem: values.base ? 'takes --format text or --format markdown' : 'needs --base <git ref>', fix: 'npm run pr-check -- --base origin/main [--format markdown]' });
  }
  const base = values.base;
  const clusters = await affectedClusters(base);
  log.info(clusters.length ? `affected clusters: ${clusters.join(', ')}` : `no cluster is affected by the changes since ${base}`);
  const checks: Check[] = [];
  for (const cluster of clusters) checks.push(...(await checkCluster(cluster, base, log)));
  for (const check of checks) (exitOf(check) === ReportExit.clean ? log.success : log.failure)(check.title);

  const markdown = format.data === 'markdown';
  const parts = markdown ? [heading(base, clusters, checks), ...checks.map(asMarkdown)] : checks.map(asText);
  process.stdout.write(`${parts.join(markdown ? '\n\n---\n\n' : '\n\n') || `no cluster is affected by the changes since ${base}`}\n`);
  return Math.max(ReportExit.clean, ...checks.map(exitOf));
});
