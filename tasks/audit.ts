// audit (offline, cached): rehearses Flux on an empty cluster. Builds the GitOps tree as Flux
// does, orders its Kustomizations by dependsOn, and checks that every kind each one applies is
// served by then: built in, the CRD phase, a CRD or waited-for HelmRelease of a dependency, or an
// operator that registers it at run time. Exit 0 clean, 1 findings, 2 error.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadBundle } from './lib/bundle/bundle-files.ts';
import { servedApiVersions } from './lib/model/crd-bundle.ts';
import { builtinKinds } from './lib/gitops/builtin-kinds.ts';
import { auditTree, type BootstrapRelease, type Finding } from './lib/gitops/flux-audit.ts';
import { rehearsalMermaid } from './lib/gitops/flux-mermaid.ts';
import { failingFindings, formatRehearsal } from './lib/gitops/flux-report.ts';
import type { FluxTree, TreeFiles } from './lib/gitops/flux-tree.ts';
import { builtTree, judgedTreeRoot, withTreeRoot } from './lib/gitops/cluster-tree.ts';
import { statePins, type ChartPin } from './lib/tools/chart-pins.ts';
import { helmReleasesOf, renderHelmReleaseCrds, type HelmReleaseSource } from './lib/gitops/helmrelease-crds.ts';
import { capabilityGated, servedBeyondBundle } from './lib/gitops/capability-gated.ts';
import { coreCapabilities } from './lib/gitops/core-capabilities.ts';
import { openChartStore, type ChartStore } from './lib/gitops/chart-store.ts';
import { chartCacheRoot } from './lib/gitops/chart-cache.ts';
import { celFindings } from './lib/gitops/cel-checks.ts';
import { healthCheckFindings } from './lib/gitops/health-checks.ts';
import { additiveDependencyCheck, withEarlyDependencies } from './lib/gitops/ready-expr.ts';
import { controllerFlags } from './lib/rehearsal/flux-operator-builds.ts';
import type { FluxSync } from './lib/rehearsal/flux-sync.ts';
import { renderHandover } from './lib/gitops/handover-renders.ts';
import { compareHandover, handoverFindings, withSeverities, type AuditWithHandover, type CoreRelease, type Handover } from './lib/gitops/handover.ts';
import { releaseValues } from './lib/tools/helmfile.ts';
import { operatorsFor } from './lib/gitops/operators.ts';
import { reportTarget, type ReportResult, type TaskContext } from './lib/runner/task.ts';
import { code, fenced, lines, md } from './lib/runtime/markdown.ts';
import { paths } from './lib/runtime/workspace.ts';

/** The bootstrap's pins: 00-crds' (rendered only) and 01-core's (installed). */
function bootstrapReleases(crdsPins: ChartPin[], corePins: ChartPin[]): BootstrapRelease[] {
  const listed = [...crdsPins.map((pin) => ({ pin, installed: false })), ...corePins.map((pin) => ({ pin, installed: true }))];
  return listed.map(({ pin, installed }) => ({ name: pin.release, chart: pin.chart, version: pin.version, stateFile: pin.file, line: pin.line, installed }));
}

type CoreValues = Awaited<ReturnType<typeof releaseValues>>;

/**
 * kustomize-controller's flags while the tree comes up: those core's FluxInstance adds in its
 * kustomize.patches (the flux-instance chart's instance.kustomize), as flux-operator applies them.
 */
function kustomizeControllerArgs(pins: ChartPin[], values: CoreValues): string[] {
  const instance = pins.find((pin) => pin.chart.endsWith('/flux-instance'));
  const kustomize = (values[`${instance?.namespace}/${instance?.release}`] as { instance?: { kustomize?: { patches?: FluxSync['patches'] } } } | undefined)?.instance?.kustomize;
  return controllerFlags(kustomize?.patches ?? []).args['kustomize-controller'] ?? [];
}

/** 01-core's releases with helmfile's values for each. */
const coreReleasesOf = (pins: ChartPin[], values: CoreValues): CoreRelease[] =>
  pins.map((pin) => ({ name: pin.release, namespace: pin.namespace, chart: pin.chart, version: pin.version, values: values[`${pin.namespace}/${pin.release}`] ?? {}, at: pin.line ? `${pin.file}:${pin.line}` : pin.file }));

/** Each core release beside the tree's HelmRelease that takes it over, and the findings of what Flux changes. */
async function handoverOf(ctx: TaskContext, core: CoreRelease[], helmReleases: HelmReleaseSource[], apiVersions: string[], charts: ChartStore): Promise<{ handover: Handover[]; findings: Finding[] }> {
  const settings = ctx.cluster.gitops?.handover;
  const renders = await renderHandover(core, helmReleases, apiVersions, charts);
  const handover = withSeverities(compareHandover(core, helmReleases, settings?.intended, renders), settings?.severities);
  return { handover, findings: handoverFindings(handover) };
}

/** The audit's prediction, written nowhere (rehearse compares Flux's verdict with it); `read`: the tree, when the caller read it already. */
export async function predict(ctx: TaskContext, gitopsRoot: string | undefined, read?: FluxTree): Promise<{ rehearsal: AuditWithHandover; tree: FluxTree }> {
  const { cluster } = ctx;
  const { manifest } = await loadBundle(cluster.name);
  const tree = read ?? (await builtTree(cluster, gitopsRoot));
  const treeReleases = helmReleasesOf(tree.kustomizations);
  const target = { cluster, context: ctx.context };
  // 01-core's pins are read once: the pin check and the hand-off both use them.
  // Charts render with what the crds phase serves, as helm-controller renders them on the cluster.
  const apiVersions = servedApiVersions(manifest.crds);
  const [crdsPins, corePins] = await Promise.all([statePins(target, paths.crdsHelmfile), statePins(target, paths.coreHelmfile)]);
  const coreValues = releaseValues(target, paths.coreHelmfile);
  const core = coreValues.then((values) => coreReleasesOf(corePins, values));
  // Each chart pulled once and each render run once for everything below.
  const charts = await openChartStore(cluster);
  try {
    const [builtin, helmReleases, handover, cel, kustomizations] = await Promise.all([
      builtinKinds(cluster),
      renderHelmReleaseCrds(treeReleases, cluster, apiVersions, charts),
      core.then((releases) => handoverOf(ctx, releases, treeReleases, apiVersions, charts)),
      celFindings(tree.kustomizations, cluster.name),
      coreValues.then((values) => withEarlyDependencies(tree.kustomizations, cluster.name, additiveDependencyCheck(kustomizeControllerArgs(corePins, values)))),
    ]);
    const releases = bootstrapReleases(crdsPins, corePins);
    const operators = operatorsFor(cluster.gitops?.operators ?? []);
    const rehearsal = auditTree({
      kustomizations,
      builtin,
      bundle: manifest.crds,
      helmReleases,
      operators,
      platformGroups: cluster.gitops?.platformGroups ?? [],
      bootstrapReleases: releases,
      pinSkew: cluster.gitops?.pinSkew,
      treeFindings: [...cel, ...healthCheckFindings(kustomizations, helmReleases, releases, operators)],
    });
    const [gated, coreGated] = await Promise.all([
      capabilityGated(kustomizations, helmReleases, apiVersions, charts, operators, releases),
      core.then((coreReleases) => coreCapabilities(coreReleases, treeReleases, builtin, apiVersions, servedBeyondBundle(kustomizations, helmReleases, operators, releases), charts)),
    ]);
    return { rehearsal: { ...rehearsal, findings: [...rehearsal.findings, ...gated, ...coreGated, ...handover.findings], handover: handover.handover }, tree };
  } finally {
    const { pulled, chartsKept, rendered, rendersKept } = charts.stats();
    ctx.log.info(`charts: ${pulled} pulled, ${chartsKept} from the chart cache; ${rendered} rendered, ${rendersKept} read back from it (${chartCacheRoot()})`);
    await charts.close();
  }
}

export async function audit(ctx: TaskContext): Promise<{ rehearsal: AuditWithHandover; tree: FluxTree }> {
  const { cluster, log } = ctx;
  const gitopsRoot = judgedTreeRoot('audit', ctx.cluster.name, ctx.options.gitopsRoot);
  // 01-core's reads of the tree (gitopsRoot) come from the judged tree too, as in a rehearsal.
  const { rehearsal, tree } = await predict({ ...ctx, cluster: withTreeRoot(ctx.cluster, gitopsRoot) }, gitopsRoot);
  const out = path.join(paths.dist, 'audit', cluster.name);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'rehearsal.json'), `${JSON.stringify({ cluster: cluster.name, ...rehearsal, files: tree.files }, null, 2)}\n`);
  const failing = failingFindings(rehearsal).length;
  (failing ? log.failure : log.success)(`rehearsal: ${tree.kustomizations.length} Kustomizations, ${failing} findings`);
  return { rehearsal, tree };
}

/** The audit as every report prints it; pr-check builds it from dist/audit/<cluster>/rehearsal.json. */
export function auditReport(rehearsal: AuditWithHandover, files: TreeFiles, verbose: boolean): ReportResult {
  const failing = failingFindings(rehearsal);
  const warnings = rehearsal.findings.length - failing.length;
  const finding = (f: Finding) =>
    lines(`**${f.severity === 'warn' ? 'warning: ' : ''}${f.type}** ${md(f.message)}`, f.kustomization ? `Kustomization ${code(f.kustomization)}, ${code(f.file)}` : code(f.file), `fix: ${md(f.fix)}`);
  return {
    json: { ...rehearsal, files },
    text: formatRehearsal(rehearsal, files, verbose),
    clean: failing.length === 0,
    markdown: {
      summary: `${rehearsal.layers.length} Kustomizations, ${failing.length} findings${warnings ? `, ${warnings} warnings` : ''}`,
      // Failing findings first, then warnings; the graph shows the from-empty order.
      findings: [...failing, ...rehearsal.findings.filter((f) => f.severity === 'warn')].map(finding),
      sections: [fenced(rehearsalMermaid(rehearsal), 'mermaid')],
    },
  };
}

export const target = reportTarget('audit', async (ctx) => {
  const { rehearsal, tree } = await audit(ctx);
  return auditReport(rehearsal, tree.files, ctx.options.verbose);
});

if (import.meta.main) await target.cli();
