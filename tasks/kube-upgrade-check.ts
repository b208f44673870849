// kube-upgrade-check (offline): before a cluster moves from one Kubernetes minor to another,
// what of the GitOps tree, the charts and the CRD bundle the new minor would refuse:
//   - built-in API versions the tree applies that it does not serve (with the version that replaces each);
//   - charts (helmfile.d and the tree's HelmReleases) whose kubeVersion refuses it;
//   - CRDs whose schema features or CEL libraries need a newer kube-apiserver.
// --from and --to default to cluster.yaml's kubernetesVersion, so a pull request that changes it
// runs this with --from <the base's version>. Exit 0 clean, 1 findings, 2 error.
import { checkFresh, loadBundle } from './lib/bundle/bundle-files.ts';
import { featuresAbove, type FeatureUse } from './lib/crds/crd-kube-features.ts';
import { builtinGroups, builtinKindsOf } from './lib/gitops/builtin-kinds.ts';
import { helmfileChartUses, judgeCharts, treeChartUses, type ChartVerdict } from './lib/gitops/chart-kube-versions.ts';
import { judgedTreeRoot, readClusterTree } from './lib/gitops/cluster-tree.ts';
import { helmReleasesOf } from './lib/gitops/helmrelease-crds.ts';
import { unservedApis, type UnservedApi } from './lib/gitops/unserved-apis.ts';
import { isCrd, type Crd } from './lib/model/crd-bundle.ts';
import { reportTarget, type TaskContext } from './lib/runner/task.ts';
import { code, md } from './lib/runtime/markdown.ts';
import { listReleases } from './lib/tools/helmfile.ts';
import { paths, relative } from './lib/runtime/workspace.ts';

interface Finding {
  type: 'api' | 'chart' | 'crd' | 'not-judged';
  message: string;
  where: string;
  fix: string;
}

async function judge(ctx: TaskContext) {
  const { cluster } = ctx;
  const from = ctx.options.from ?? cluster.kubernetesVersion;
  const to = ctx.options.to ?? cluster.kubernetesVersion;
  const tree = await readClusterTree(cluster, judgedTreeRoot('kube-upgrade-check', cluster.name, ctx.options.gitopsRoot));
  const stateFiles = [paths.crdsHelmfile, paths.coreHelmfile];
  const [now, target, groups, bundle, helmfileReleases] = await Promise.all([
    builtinKindsOf(from),
    builtinKindsOf(to),
    builtinGroups(),
    loadBundle(cluster.name),
    Promise.all(stateFiles.map((file) => listReleases({ cluster, context: ctx.context }, file))),
  ]);
  await checkFresh(bundle, cluster);
  const apis = unservedApis(tree.kustomizations, { now, target, builtinGroups: groups });
  const chartUses = [
    ...stateFiles.flatMap((file, i) => helmfileChartUses(relative(file), helmfileReleases[i]!, cluster)),
    ...treeChartUses(helmReleasesOf(tree.kustomizations), cluster),
  ];
  const charts = await judgeCharts(chartUses, to, cluster);
  // The bundle's CRDs, and those the tree applies itself (its HelmReleases' CRDs are not rendered here).
  const releaseOf = new Map(bundle.manifest.crds.map((entry) => [entry.name, entry.release]));
  const crds = [
    ...bundle.crds.map((crd) => ({ crd, where: `release ${releaseOf.get(crd.metadata.name)} of helmfile.d/00-crds (dist/crds/${cluster.name})` })),
    ...tree.kustomizations.flatMap((k) => k.objects.filter(({ object }) => isCrd(object)).map(({ object, file }) => ({ crd: object as Crd, where: `${file} (Kustomization ${k.id})` }))),
  ];
  const findings = [
    ...apis.map((api) => apiFinding(api, from, to)),
    ...charts.filter((c) => c.refusal || c.notJudged).map((c) => chartFinding(c, from, to)),
    ...crds.flatMap(({ crd, where }) => featuresAbove(crd, to).map((feature) => crdFinding(crd, feature, where, to))),
  ];
  return { from, to, objects: tree.kustomizations.reduce((n, k) => n + k.objects.length, 0), charts: charts.length, crds: crds.length, findings, unservedApis: apis, chartVerdicts: charts };
}

function apiFinding(api: UnservedApi, from: string, to: string): Finding {
  const [replacement, ...others] = api.replacements;
  return {
    type: 'api',
    message: `${api.apiVersion} ${api.kind} ${api.object} is not served by Kubernetes ${to}${api.servedNow ? ` (${from} serves it)` : ` (nor by ${from}: Flux fails to apply it already)`}`,
    where: `${api.file} (Kustomization ${api.kustomization})`,
    fix: replacement
      ? `use ${replacement}${others.length ? ` (also served: ${others.join(', ')})` : ''}: apiVersion: ${replacement}`
      : `Kubernetes ${to} serves no version of ${api.kind} by default: enable one with kube-apiserver --runtime-config, or leave it out`,
  };
}

function crdFinding(crd: Crd, feature: FeatureUse, where: string, to: string): Finding {
  return {
    type: 'crd',
    message: `${crd.metadata.name} uses ${feature.name} (${feature.at}), which kube-apiserver accepts in a new CRD from ${feature.minimum} on, not in ${to} (${feature.source})`,
    where,
    fix: `upgrade to ${feature.minimum} or later before the CRD is applied, or pin a chart version whose CRD does without ${feature.name}`,
  };
}

function chartFinding(chart: ChartVerdict, from: string, to: string): Finding {
  const where = `${chart.usedBy} (${chart.file})`;
  if (chart.notJudged) {
    return { type: 'not-judged', message: `${chart.chart || chart.usedBy}${chart.version ? `:${chart.version}` : ''}: its kubeVersion was not read: ${chart.notJudged}`, where, fix: 'make the chart readable from here (registry mirror, tag pin), then run this again' };
  }
  return {
    type: 'chart',
    message: `${chart.chart}:${chart.version} refuses Kubernetes ${to}: ${chart.refusal}`,
    where,
    fix: `move to a chart version whose kubeVersion admits ${to} before upgrading, or stay on ${from}`,
  };
}

function format(report: Awaited<ReturnType<typeof judge>>): string {
  const out = report.findings.flatMap((f) => [`✗ ${f.type}: ${f.message}`, `    ${f.where}`, `    fix: ${f.fix}`]);
  out.push(`Kubernetes ${report.from} → ${report.to}: ${report.objects} objects, ${report.charts} charts, ${report.crds} CRDs judged, ${report.findings.length} findings`);
  return out.join('\n');
}

export const target = reportTarget('kube-upgrade-check', async (ctx) => {
  const report = await judge(ctx);
  return {
    json: report,
    text: format(report),
    clean: report.findings.length === 0,
    markdown: {
      summary: `Kubernetes ${report.from} → ${report.to}: ${report.findings.length} finding(s)`,
      findings: report.findings.map((f) => `**${f.type}** ${md(f.message)}<br>\n  ${code(f.where)}<br>\n  fix: ${md(f.fix)}`),
    },
  };
});

if (import.meta.main) await target.cli();
