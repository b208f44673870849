// Charts gate objects on the API server's capabilities (`.Capabilities.APIVersions.Has
// "monitoring.coreos.com/v1/ServiceMonitor"`), and helm-controller renders a release when it installs
// or upgrades it, never again when a CRD appears later. So an object gated on a kind that the tree
// serves only after the HelmRelease's Kustomization applies is never created, without a word (or,
// for a chart that fails instead, the install fails). Each HelmRelease of a chart that asks is
// rendered twice: with what is served when its Kustomization applies, and with everything the tree
// ever serves. What only the second render has is a finding.
import type { KubernetesObject } from '@kubernetes/client-node';
import { servedApiVersions } from '../model/crd-bundle.ts';
import { loadObjects } from '../runtime/yaml.ts';
import type { OperatorSpec } from '../model/config.ts';
import { operatorServedKinds, treeServedKinds, type BootstrapRelease, type Finding, type TreeServedKind } from './flux-audit.ts';
import type { FluxKustomization } from './flux-tree.ts';
import type { ChartStore } from './chart-store.ts';
import { toolSaid, type HelmReleaseCrds } from './helmrelease-crds.ts';
import { objectName } from './manifest-diff.ts';

const ASKS = 'Capabilities.APIVersions';

type Rendered = { objects: KubernetesObject[] } | { failed: string };

/**
 * Whether a template looks at the API versions (or a packed subchart might); not for a chart that
 * cannot be pulled (the CRD render already said so).
 */
export const asksCapabilities = (charts: ChartStore, chart: { url: string; version: string }): Promise<boolean> =>
  charts.pull(chart).then(
    (pulled) => pulled.packedSubcharts || pulled.templates.includes(ASKS),
    () => false,
  );

/** What the tree serves beyond the bundle by the time a HelmRelease of `at` installs (everything, without `at`): CRDs, and the kinds operators register at run time. */
export const servedBeyondBundle = (kustomizations: FluxKustomization[], helmReleases: HelmReleaseCrds[], operators: OperatorSpec[], bootstrap: BootstrapRelease[], at?: string): TreeServedKind[] => [
  ...treeServedKinds(kustomizations, helmReleases, at),
  ...operatorServedKinds(kustomizations, helmReleases, operators, bootstrap, at),
];

export async function capabilityGated(kustomizations: FluxKustomization[], helmReleases: HelmReleaseCrds[], bundleApiVersions: string[], charts: ChartStore, operators: OperatorSpec[], bootstrap: BootstrapRelease[]): Promise<Finding[]> {

  const everything = servedBeyondBundle(kustomizations, helmReleases, operators, bootstrap);
  const full = [...new Set([...bundleApiVersions, ...servedApiVersions(everything)])];
  const findings = await Promise.all(
    helmReleases.map(async (hr): Promise<Finding | undefined> => {
      if (hr.notRendered || 'unresolved' in hr.chart) return undefined;
      // The version as the tree pins it (a range too): the store pulled it under that name.
      const chart = { url: hr.chart.url, version: hr.chart.version };
      if (!(await asksCapabilities(charts, chart))) return undefined;
      const then = [...new Set([...bundleApiVersions, ...servedApiVersions(servedBeyondBundle(kustomizations, helmReleases, operators, bootstrap, hr.kustomization))])];
      if (then.length === full.length) return undefined;
      const render = (apiVersions: string[], side: string): Promise<Rendered> =>
        charts
          .render({ chart, releaseName: hr.releaseName, namespace: hr.targetNamespace, values: hr.values, apiVersions, subject: `HelmRelease ${hr.namespace}/${hr.name} (${hr.file})`, logName: `capabilities-${hr.namespace}-${hr.name}-${side}` })
          .then(
            (text) => ({ objects: loadObjects(text) }),
            (error: unknown) => ({ failed: toolSaid(error) }),
          );
      const [atApply, atLast] = await Promise.all([render(then, 'at-apply'), render(full, 'everything')]);
      if ('failed' in atLast) return undefined; // a values problem, not a capability: the CRD render reports it
      return gatedFinding(hr, atApply, atLast.objects, new Set(then), everything);
    }),
  );
  return findings.filter((f) => f !== undefined);
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
      gated: { helmRelease: `${hr.namespace}/${hr.name}`, objects: [] },
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
    gated: { helmRelease: `${hr.namespace}/${hr.name}`, objects: gated.map((o) => ({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata?.name ?? '' })) },
    ...(own[0] ? { kind: `${own[0].group}/${own[0].versions[0]} ${own[0].kind}` } : {}),
    message: `${id} renders ${gated.map(objectName).join(', ')} only where ${checked.map(serve).join(', ')} is served, which is not yet when ${hr.kustomization} applies; helm-controller renders a release once, so ${gated.length > 1 ? 'they are' : 'it is'} never created`,
    fix: fixFor(checked),
  };
}
