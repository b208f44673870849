// The pull-request check of one cluster, with no cluster to talk to:
//   1. render-crds and audit through Nx, so their cached results (local, or the shared remote
//      cache with a read-only token) are reused and a verdict is never computed twice;
//   2. the base's bundle rendered once in a throwaway worktree, then compare-bundles against it and
//      upgrade-check of the tree's objects against the CRDs that changed since the base.
// Each check ends as a report, or as the error that stopped it: pr-check prints them all.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { auditReport } from '../../tasks/audit.ts';
import { compareBundles, comparisonReport } from '../../tasks/compare-bundles.ts';
import { upgradeReport } from '../../tasks/upgrade-check.ts';
import { loadBundle } from '../../tasks/lib/bundle/bundle-files.ts';
import { withBundleAtRef } from '../../tasks/lib/bundle/bundle-at-ref.ts';
import { checkTreeUpgrade } from '../../tasks/lib/gitops/upgrade-objects.ts';
import type { TreeAudit } from '../../tasks/lib/gitops/flux-audit.ts';
import type { TreeFiles } from '../../tasks/lib/gitops/flux-tree.ts';
import { loadCluster, type ClusterConfig } from '../../tasks/lib/model/config.ts';
import { DEFAULT_TIMEOUT_SECONDS, type ReportResult } from '../../tasks/lib/runner/task.ts';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import type { Logger } from '../../tasks/lib/runtime/log.ts';
import { bundleDir, paths, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

/** One check's outcome: its report, or why it could not run. */
export type Check = { title: string; result: ReportResult } | { title: string; error: string };

const rehearsalFile = (clusterName: string) => path.join(paths.dist, 'audit', clusterName, 'rehearsal.json');

/** A task's own failure (`✗ audit failed: …` up to the next blank line), not Nx's frame around it. */
export function failureOf(output: string): string {
  const lines = output.split('\n');
  const first = lines.findIndex((line) => /✗ [\w-]+ failed/.test(line));
  if (first < 0) return lines.filter((line) => line.trim()).slice(-12).join('\n');
  // Nx's frame: a blank line, its "Warning: command … exited" line, its " NX " summary.
  const end = lines.findIndex((line, index) => index > first && (!line.trim() || /^Warning: command |^\s*NX\s/.test(line)));
  return lines.slice(first, end < 0 ? undefined : end).join('\n');
}

/**
 * render-crds, then audit (it depends on the render) when the cluster has a GitOps tree, through
 * Nx: cached, maybe remotely.
 */
async function renderAndAudit(config: ClusterConfig, log: Logger): Promise<Check[]> {
  const cluster = config.name;
  // A failed task leaves an older output in place: remove them, so what is read is this run's.
  await Promise.all([rm(bundleDir(cluster), { recursive: true, force: true }), rm(path.dirname(rehearsalFile(cluster)), { recursive: true, force: true })]);
  const target = config.gitops ? 'audit' : 'render-crds';
  log.action(`nx run ${cluster}:${target}${config.gitops ? ' (render-crds first)' : ' (cluster.yaml sets no gitops: no audit)'}`);
  const run = await $({ cwd: workspaceRoot, nothrow: true, quiet: true, env: { ...process.env, NX_DAEMON: 'false' } })`nx run ${`${cluster}:${target}`} --outputStyle=stream-without-prefixes`;
  const output = `${run.stdout}\n${run.stderr}`;
  if (!existsSync(path.join(bundleDir(cluster), 'manifest.json'))) return [{ title: `render-crds ${cluster}`, error: failureOf(output) }];
  if (!config.gitops) return [];
  if (!existsSync(rehearsalFile(cluster))) return [{ title: `audit ${cluster}`, error: failureOf(output) }];
  const saved = JSON.parse(await readFile(rehearsalFile(cluster), 'utf8')) as TreeAudit & { files: TreeFiles };
  return [{ title: `audit ${cluster}`, result: auditReport(saved, saved.files, false) }];
}

/** compare-bundles and upgrade-check against the base's bundle, rendered once for both. */
async function againstBase(config: ClusterConfig, base: string, log: Logger): Promise<Check[]> {
  const cluster = config.name;
  const atBase = await $({ cwd: workspaceRoot, nothrow: true, quiet: true })`git cat-file -e ${`${base}:clusters/${cluster}/cluster.yaml`}`;
  if (atBase.exitCode !== 0) {
    // A cluster the change adds has no objects a CRD change could break yet.
    log.info(`${cluster} is new since ${base}: no base bundle to compare with`);
    return [];
  }
  log.action(`rendering ${cluster}'s bundle at ${base} in a throwaway worktree`);
  return withBundleAtRef(cluster, base, async (baseDir) => {
    const comparison = await compareBundles(baseDir, bundleDir(cluster), config.crdRules);
    log.action(`upgrade-check ${cluster}: the tree's objects against the CRDs changed since ${base}`);
    const [baseBundle, headBundle] = await Promise.all([loadBundle('base', baseDir), loadBundle(cluster)]);
    const upgrade = await checkTreeUpgrade(config, baseBundle, headBundle, DEFAULT_TIMEOUT_SECONDS * 1000);
    return [
      { title: `compare-bundles ${cluster}`, result: comparisonReport(comparison) },
      { title: `upgrade-check ${cluster}`, result: upgradeReport(upgrade) },
    ];
  });
}

export async function checkCluster(clusterName: string, base: string, log: Logger): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const config = await loadCluster(clusterName);
    checks.push(...(await renderAndAudit(config, log)));
    // Without this change's bundle there is nothing to compare with the base.
    if (checks.some((check) => 'error' in check && check.title.startsWith('render-crds'))) return checks;
    checks.push(...(await againstBase(config, base, log)));
  } catch (error) {
    // A broken cluster.yaml, a base that does not render: this cluster's check could not run.
    if (!(error instanceof BootstrapError)) throw error;
    checks.push({ title: `pr-check ${clusterName}`, error: error.message });
  }
  return checks;
}
