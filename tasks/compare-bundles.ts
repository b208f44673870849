// Breaking changes between two rendered bundles, without a cluster: e.g. the bundle at the git
// base of a pull request and the one its chart bump renders.
//   node tasks/compare-bundles.ts <base-bundle-dir> <head-bundle-dir> [--json | --format markdown]
//   node tasks/compare-bundles.ts --cluster <name> --base <git ref> [--json | --format markdown]
//     (renders the base in a throwaway worktree; the head is dist/crds/<name>: render it first)
// Exit 0 nothing breaking, 1 breaking changes or CRDs dropped, 2 error.
import { parseArgs } from 'node:util';
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { changeMarkdown, crdChanges, formatBreakingChange, withSettings, type BreakingChange, type RuleSettings } from './lib/crds/crd-compat.ts';
import { loadCluster } from './lib/model/config.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { withBundleAtRef } from './lib/bundle/bundle-at-ref.ts';
import { checkReportOutput, printReport, ReportExit, runCommand, type ReportOutput, type ReportResult } from './lib/runner/task.ts';
import { OPTIONS } from './lib/runner/options.ts';
import { code } from './lib/runtime/markdown.ts';
import { bundleDir } from './lib/runtime/workspace.ts';

export interface BundleComparison {
  /** Changes of severity error: they fail the check. */
  breaking: BreakingChange[];
  /** Changes of severity warn or info. */
  notes: BreakingChange[];
  /** In the base bundle, gone from the head: the cluster keeps them (never deleted), the charts no longer define them. */
  dropped: string[];
  added: string[];
}

export async function compareBundles(baseDir: string, headDir: string, rules: RuleSettings = {}): Promise<BundleComparison> {
  const [base, head] = await Promise.all([loadBundle('base', baseDir), loadBundle('head', headDir)]);
  const headByName = new Map(head.crds.map((c) => [c.metadata.name, c]));
  const baseNames = new Set(base.crds.map((c) => c.metadata.name));
  const changes = withSettings(
    base.crds.flatMap((crd) => (headByName.has(crd.metadata.name) ? crdChanges(crd, headByName.get(crd.metadata.name)!, { bundles: true }) : [])),
    rules,
  );
  return {
    breaking: changes.filter((c) => c.severity === 'error'),
    notes: changes.filter((c) => c.severity !== 'error'),
    dropped: base.crds.filter((c) => !headByName.has(c.metadata.name)).map((c) => c.metadata.name),
    added: head.crds.filter((c) => !baseNames.has(c.metadata.name)).map((c) => c.metadata.name),
  };
}

function formatComparison(result: BundleComparison): string {
  return [
    ...result.breaking.map((change) => `✗ ${formatBreakingChange(change)}`),
    ...result.notes.map((change) => `${change.severity === 'warn' ? '!' : '·'} ${formatBreakingChange(change)}`),
    ...result.dropped.map((name) => `✗ ${name}: dropped from the bundle (stays in clusters, never deleted)`),
    ...result.added.map((name) => `+ ${name}: new`),
    comparisonSummary(result),
  ].join('\n');
}

const comparisonSummary = (result: BundleComparison) => `${result.breaking.length} breaking, ${result.dropped.length} dropped, ${result.added.length} added`;

/** The comparison as every report prints it: breaking changes and dropped CRDs are the findings. */
export function comparisonReport(result: BundleComparison): ReportResult {
  return {
    json: result,
    text: formatComparison(result),
    clean: !result.breaking.length && !result.dropped.length,
    markdown: {
      summary: comparisonSummary(result),
      findings: [...result.breaking.map(changeMarkdown), ...result.dropped.map((name) => `**dropped** ${code(name)}: no chart defines it any more (clusters keep it, never deleted)`)],
    },
  };
}

if (import.meta.main) {
  await runCommand('compare-bundles', ReportExit.error, async () => {
    const { values, positionals } = parseArgs({
      options: { json: { type: 'boolean' }, format: { type: 'string' }, cluster: { type: 'string' }, base: { type: 'string' } },
      allowPositionals: true,
    });
    const format = OPTIONS.format.schema.safeParse(values.format);
    if (!format.success) throw new BootstrapError({ subject: 'option --format', problem: format.error.issues[0]!.message, fix: 'pass --format text or --format markdown' });
    const output: ReportOutput = { json: values.json ?? false, format: format.data, title: `compare-bundles${values.cluster ? ` ${values.cluster}` : ''}` };
    checkReportOutput(output);
    let result: BundleComparison;
    if (values.cluster && values.base) {
      const head = bundleDir(values.cluster);
      const { crdRules } = await loadCluster(values.cluster);
      result = await withBundleAtRef(values.cluster, values.base, (base) => compareBundles(base, head, crdRules));
    } else if (positionals.length === 2) {
      result = await compareBundles(positionals[0]!, positionals[1]!);
    } else {
      throw new BootstrapError({
        subject: 'compare-bundles',
        problem: 'needs two bundle folders, or --cluster and --base',
        fix: 'node tasks/compare-bundles.ts <base-dir> <head-dir>, or --cluster infra --base main',
      });
    }
    return printReport(comparisonReport(result), output);
  });
}
