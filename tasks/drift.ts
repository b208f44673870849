// drift (read-only): CRDs whose live spec differs from the bundle, CRDs missing, CRDs in the
// cluster from no release, the same CRD at different chart versions in other clusters, and
// objects of core releases that helm deployed and the cluster no longer has.
// Exit 0 no drift, 1 drift found, 2 error.
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { clusterNames, loadCluster } from './lib/model/config.ts';
import { managedByUs, planCrds, sharedOwnership } from './lib/crds/crd-plan.ts';
import { listCrds } from './lib/cluster/kube.ts';
import { clusterDrift, formatDrift, liveSources, versionSkew, type DriftFinding } from './lib/crds/crd-drift.ts';
import { connectGuarded, reportTarget, type ReportResult, type TaskContext } from './lib/runner/task.ts';
import { code, md } from './lib/runtime/markdown.ts';
import { deployedReleases } from './lib/tools/helm.ts';
import { listReleases } from './lib/tools/helmfile.ts';
import { findDeployed } from './lib/core/release-plan.ts';
import { UNSERVED, deployedWholeness } from './lib/core/release-presence.ts';
import { paths } from './lib/runtime/workspace.ts';

/** Live CRD sources of every other cluster that answers; one that does not is skipped with a warning. */
async function otherClusterSources(ctx: TaskContext): Promise<Map<string, Map<string, string>>> {
  const sources = new Map<string, Map<string, string>>();
  for (const name of (await clusterNames()).filter((n) => n !== ctx.cluster.name)) {
    try {
      const other = await loadCluster(name);
      const kube = await connectGuarded(other);
      sources.set(name, liveSources([...(await listCrds(kube)).values()]));
    } catch (error) {
      ctx.log.warning(`skipping cluster ${name} for the cross-cluster check: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  return sources;
}

/** Each object of an installed core release's manifest that the cluster lacks (a release not installed is verify's and core's to say). */
async function missingReleaseObjects(ctx: TaskContext): Promise<DriftFinding[]> {
  const target = { cluster: ctx.cluster, context: ctx.context };
  const [desired, deployed] = await Promise.all([listReleases(target, paths.coreHelmfile), deployedReleases(target)]);
  const installed = desired.filter((r) => r.enabled && findDeployed(r, deployed));
  const { gaps } = await deployedWholeness(ctx.kube(), target, installed);
  return gaps.flatMap((g) =>
    g.absent.map((a) => ({
      kind: 'missing-object' as const,
      subject: a.text,
      detail: `of release ${g.namespace}/${g.name}: helm deployed it, the cluster no longer has it${a.unserved ? ` (${UNSERVED})` : ''}; nx run ${ctx.cluster.name}:core puts it back`,
    })),
  );
}

export interface Drift {
  findings: DriftFinding[];
  /** Per other field manager, the bundle CRDs it also applies, same content proven by hash: not drift. */
  shared: Record<string, string[]>;
}

export async function drift(ctx: TaskContext): Promise<Drift> {
  const { cluster, kube } = ctx;
  const client = kube();
  const bundle = await loadBundle(cluster.name);
  const ignored = new Set(cluster.drift.ignoreCrds);
  const live = [...(await listCrds(client)).values()].filter((crd) => !ignored.has(crd.metadata?.name ?? ''));
  const plan = await planCrds(client, bundle);
  const findings = clusterDrift(plan, live, new Set(bundle.crds.map((c) => c.metadata.name)), managedByUs);
  const sources = await otherClusterSources(ctx);
  sources.set(cluster.name, liveSources(live));
  findings.push(...versionSkew(cluster.name, sources), ...(await missingReleaseObjects(ctx)));
  return { findings, shared: Object.fromEntries(sharedOwnership(plan)) };
}

export function driftReport(clusterName: string, findings: DriftFinding[], shared: Record<string, string[]> = {}): ReportResult {
  const sharedLines = Object.entries(shared).map(([manager, names]) => `shared: ${names.length} CRD(s) also applied by ${manager} with the same content (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}), not drift`);
  return {
    json: { findings, shared },
    text: [formatDrift(clusterName, findings), ...sharedLines].join('\n'),
    clean: findings.length === 0,
    markdown: { summary: `${findings.length} finding(s)`, findings: findings.map((f) => `**${f.kind}** ${code(f.subject)}: ${md(f.detail)}`) },
  };
}

export const target = reportTarget(
  'drift',
  async (ctx) => {
    const { findings, shared } = await drift(ctx);
    return driftReport(ctx.cluster.name, findings, shared);
  },
);

if (import.meta.main) await target.cli();
