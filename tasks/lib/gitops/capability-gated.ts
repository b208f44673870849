// Charts gate objects on the API server's capabilities (`.Capabilities.APIVersions.Has
// "monitoring.coreos.com/v1/ServiceMonitor"`), and helm-controller renders a release when it installs
// or upgrades it, never again when a CRD appears later. So an object gated on a kind that the tree
// serves only after the HelmRelease's Kustomization applies is never created, without a word (or,
// for a chart that fails instead, the install fails). Each HelmRelease of a chart that asks is
// rendered twice: with what is served when its Kustomization applies, and with everything the tree
// ever serves. What only the second render has is a finding.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { servedApiVersions } from '../model/crd-bundle.ts';
import { loadMachineWritten } from '../runtime/yaml.ts';
import { runTool } from '../tools/run-tool.ts';
import { treeServedKinds, type Finding, type TreeServedKind } from './flux-audit.ts';
import type { FluxKustomization } from './flux-tree.ts';
import { apiVersionArgs, pullChart, reachFix, toolSaid, type HelmReleaseCrds } from './helmrelease-crds.ts';
import { objectName } from './manifest-diff.ts';

const ASKS = 'Capabilities.APIVersions';

/** Does any template of the chart (or of a subchart) look at the API versions? */
async function asksCapabilities(chartDir: string): Promise<boolean> {
  const files = (await readdir(chartDir, { recursive: true })).filter((f) => /\/templates\/|^templates\//.test(f) && /\.(ya?ml|tpl|txt)$/.test(f));
  for (const file of files) if ((await readFile(path.join(chartDir, file), 'utf8')).includes(ASKS)) return true;
  return false;
}

type Rendered = { objects: KubernetesObject[] } | { failed: string };

export async function capabilityGated(kustomizations: FluxKustomization[], helmReleases: HelmReleaseCrds[], bundleApiVersions: string[], cluster: ClusterConfig): Promise<Finding[]> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'capabilities-'));
  const limit = pLimit(availableParallelism());
  const helm = (logName: string, subject: string, chart: { url: string; version: string }) => (args: string[]) =>
    runTool({ tool: 'helm', args, cluster: cluster.name, logName, subject, fix: reachFix(chart, cluster) });
  // One pull (untarred) per chart; undefined for a chart that never looks at the API versions.
  const charts = new Map<string, Promise<string | undefined>>();
  const chartDirOf = (chart: { url: string; version: string }) => {
    const key = `${chart.url}@${chart.version}`;
    if (!charts.has(key)) {
      const dir = path.join(scratch, `chart-${charts.size}`);
      const pull = helm(`capabilities-${path.basename(chart.url)}-${chart.version}`, `chart ${chart.url}:${chart.version}`, chart);
      charts.set(
        key,
        limit(async () => {
          const root = await pullChart(chart, cluster, dir, pull, { untar: true });
          return (await asksCapabilities(root)) ? root : undefined;
        }).catch(() => undefined), // unreachable: the CRD render already said so
      );
    }
    return charts.get(key)!;
  };

  const everything = treeServedKinds(kustomizations, helmReleases);
  const full = [...new Set([...bundleApiVersions, ...servedApiVersions(everything)])];
  try {
    const findings = await Promise.all(
      helmReleases.map(async (hr, i): Promise<Finding | undefined> => {
        if (hr.notRendered || 'unresolved' in hr.chart) return undefined;
        const chart = { url: hr.chart.url, version: hr.resolvedVersion ?? hr.chart.version };
        const dir = await chartDirOf(chart);
        if (!dir) return undefined;
        const then = [...new Set([...bundleApiVersions, ...servedApiVersions(treeServedKinds(kustomizations, helmReleases, hr.kustomization))])];
        if (then.length === full.length) return undefined;
        const values = path.join(scratch, `values-${i}.json`);
        await writeFile(values, JSON.stringify(hr.values));
        const render = (apiVersions: string[], side: string): Promise<Rendered> =>
          limit(() =>
            helm(`capabilities-${hr.namespace}-${hr.name}-${side}`, `HelmRelease ${hr.namespace}/${hr.name} (${hr.file})`, chart)([
              'template', hr.releaseName, dir, '--namespace', hr.targetNamespace, '--values', values, '--kube-version', `${cluster.kubernetesVersion}.0`, ...apiVersionArgs(apiVersions),
            ]),
          ).then(
            (text) => ({ objects: loadMachineWritten(text).filter((o): o is KubernetesObject => !!o && typeof o === 'object') }),
            (error: unknown) => ({ failed: toolSaid(error) }),
          );
        const [atApply, atLast] = await Promise.all([render(then, 'at-apply'), render(full, 'everything')]);
        if ('failed' in atLast) return undefined; // a values problem, not a capability: the CRD render reports it
        return gatedFinding(hr, atApply, atLast.objects, new Set(then), everything);
      }),
    );
    return findings.filter((f) => f !== undefined);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The finding, naming the objects (or the failure), the kinds not served yet, what serves them and the fix. */
export function gatedFinding(hr: HelmReleaseCrds, atApply: Rendered, atLast: KubernetesObject[], servedThen: Set<string>, everything: TreeServedKind[]): Finding | undefined {
  const where = { type: 'capability-gated' as const, kustomization: hr.kustomization, file: hr.file };
  const id = `HelmRelease ${hr.namespace}/${hr.name}`;
  const laterKinds = everything.filter((k) => k.versions.some((v) => !servedThen.has(`${k.group}/${v}/${k.kind}`)));
  const serve = (k: TreeServedKind) => `${k.group}/${k.versions[0]} ${k.kind} (${k.by})`;
  const fixFor = (kinds: TreeServedKind[]) => {
    const deps = [...new Set(kinds.map((k) => k.kustomization))];
    return `put the CRDs of ${[...new Set(kinds.map((k) => k.kind))].join(', ')} in helmfile.d/00-crds (served before any Kustomization), or add dependsOn ${deps.join(', ')} to ${hr.kustomization} (waiting for ${deps.length > 1 ? 'them' : 'it'})`;
  };
  if ('failed' in atApply) {
    return {
      ...where,
      message: `${id} does not render with what is served when ${hr.kustomization} applies (${atApply.failed}), but does once the tree serves ${laterKinds.map(serve).join(', ')}: Flux's install fails`,
      fix: fixFor(laterKinds),
    };
  }
  const identity = (o: KubernetesObject) => `${o.apiVersion} ${objectName(o)}`;
  const had = new Set(atApply.objects.map(identity));
  const gated = atLast.filter((o) => !had.has(identity(o)));
  if (!gated.length) return undefined;
  // The kinds it checks are, as a rule, the gated objects' own kinds; else any kind served later.
  const own = laterKinds.filter((k) => gated.some((o) => o.kind === k.kind && (o.apiVersion ?? '').startsWith(`${k.group}/`)));
  const checked = own.length ? own : laterKinds;
  return {
    ...where,
    ...(own[0] ? { kind: `${own[0].group}/${own[0].versions[0]} ${own[0].kind}` } : {}),
    message: `${id} renders ${gated.map(objectName).join(', ')} only where ${checked.map(serve).join(', ')} is served, which is not yet when ${hr.kustomization} applies; helm-controller renders a release once, so ${gated.length > 1 ? 'they are' : 'it is'} never created`,
    fix: fixFor(checked),
  };
}
