// The CRDs a HelmRelease of the GitOps tree installs: its chart (from the OCIRepository or OCI
// HelmRepository it names, through the cluster's registry mirror) rendered with its values.
// CRDs under templates/ are always installed; those in the chart's crds/ folder only unless
// spec.install.crds is Skip (Flux's default is Create). upgrade.crds is reported, not judged.
// A chart that cannot be rendered (unreachable, a digest pin, a chart from an HTTP repository)
// never stops the audit: its HelmRelease carries the reason (notRendered) and becomes a finding.
import type { KubernetesObject } from '@kubernetes/client-node';
import { reachFix, templatesMayRenderCrds, templatesRunWorkload, type ChartStore, type PulledChart } from './chart-store.ts';
import type { ClusterConfig } from '../model/config.ts';
import { isCrd } from '../model/crd-bundle.ts';
import { BootstrapError } from '../runtime/errors.ts';
import type { FluxKustomization } from './flux-tree.ts';
import { loadObjects } from '../runtime/yaml.ts';
import { resolveHelmRelease } from './helmrelease.ts';

export interface CrdKind {
  group: string;
  kind: string;
  versions: string[];
}

export interface HelmReleaseSource {
  /** The Kustomization that applies the HelmRelease. */
  kustomization: string;
  name: string;
  namespace: string;
  file: string;
  /** helm-controller's release name and the namespace the chart's objects go to (resolveHelmRelease). */
  releaseName: string;
  targetNamespace: string;
  /** Where helm keeps the release (spec.storageNamespace, else the HelmRelease's namespace). */
  storageNamespace: string;
  /**
   * oci://… and the version (and the file pinning them), or why the chart cannot be rendered
   * offline. `version` may be a semver range (OCIRepository ref.semver): helm resolves it
   * against the registry's tags, as source-controller does.
   */
  chart: { url: string; version: string; file: string } | { unresolved: string };
  installCrds: string;
  upgradeCrds: string;
  values: Record<string, unknown>;
  /** valuesFrom sources the tree does not hold (an ExternalSecret's Secret, say): rendered without them. */
  missingValues: string[];
}

export interface HelmReleaseCrds extends HelmReleaseSource {
  crds: CrdKind[];
  /** Why the chart's CRDs are unknown (not rendered), if they are, and what makes it renderable. */
  notRendered?: { reason: string; fix: string };
  /** The version a semver range resolved to. */
  resolvedVersion?: string;
  /** The chart renders CRDs and no workload (a `*-crds` chart): it serves kinds but runs no controller. */
  crdsOnly?: true;
}

type Obj = KubernetesObject & { spec?: Record<string, any>; data?: Record<string, string>; file?: string };

/** Every HelmRelease the tree applies, read as helm-controller reads it (resolveHelmRelease) from the objects in the tree. */
export function helmReleasesOf(kustomizations: FluxKustomization[]): HelmReleaseSource[] {
  const all = kustomizations.flatMap((k) => k.objects.map(({ object, file }) => ({ ...(object as Obj), file })));
  const lookup = (kind: string, namespace: string, name: string) =>
    all.find((o) => o.kind === kind && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === namespace);
  const releases: HelmReleaseSource[] = [];
  for (const k of kustomizations) {
    for (const { object, file } of k.objects) {
      if (object.kind !== 'HelmRelease' || !(object.apiVersion ?? '').startsWith('helm.toolkit.fluxcd.io/')) continue;
      const hr = resolveHelmRelease(object as Obj, lookup);
      releases.push({
        kustomization: k.id,
        name: hr.name,
        namespace: hr.namespace,
        file,
        releaseName: hr.releaseName,
        targetNamespace: hr.targetNamespace,
        storageNamespace: hr.storageNamespace,
        chart: 'unresolved' in hr.chart ? { unresolved: hr.chart.unresolved } : { url: hr.chart.url, version: hr.chart.version, file: hr.chart.source.file ?? '' },
        installCrds: hr.install.crds,
        upgradeCrds: hr.upgrade.crds,
        values: hr.values,
        missingValues: hr.missingValues,
      });
    }
  }
  return releases;
}

/**
 * Renders the charts and lists their CRD kinds. Each distinct chart is pulled once and each
 * distinct render runs once (the store, shared with the audit's other renders); its crds/ folder
 * is read from its files; its templates are not rendered at all when they cannot produce a CRD.
 */
export async function renderHelmReleaseCrds(releases: HelmReleaseSource[], cluster: ClusterConfig, apiVersions: string[], charts: ChartStore): Promise<HelmReleaseCrds[]> {
  // A chart's crds/ folder, parsed once however many releases use the chart.
  const crdFolders = new Map<PulledChart, CrdKind[]>();
  const crdFolderOf = (chart: PulledChart) => crdFolders.get(chart) ?? crdFolders.set(chart, renderedKinds(chart.crdFiles).crds).get(chart)!;
  // Each release settles on its own: a failure is its finding.
  return Promise.all(
    releases.map(async (release): Promise<HelmReleaseCrds> => {
      if ('unresolved' in release.chart) {
        return { ...release, crds: [], notRendered: { reason: `not rendered: ${release.chart.unresolved}`, fix: 'pin the chart by tag (or a semver range) in an OCIRepository or OCI HelmRepository of the tree, or declare the kinds it serves in cluster.yaml gitops.operators' } };
      }
      let chart: PulledChart;
      try {
        chart = await charts.pull(release.chart);
      } catch (error) {
        return { ...release, crds: [], notRendered: { reason: `not rehearsed: chart unreachable: ${toolSaid(error)}`, fix: reachFix(release.chart, cluster) } };
      }
      const resolvedVersion = chart.version && chart.version !== release.chart.version ? chart.version : undefined;
      try {
        const templated = templatesMayRenderCrds(chart, release.values)
          ? renderedKinds(
              await charts.render({
                chart: release.chart,
                releaseName: release.releaseName,
                namespace: release.targetNamespace,
                values: release.values,
                apiVersions,
                subject: `HelmRelease ${release.namespace}/${release.name} (${release.file})`,
                logName: `helmrelease-${release.name}`,
              }),
            )
          : { crds: [], workload: templatesRunWorkload(chart) };
        const crds = release.installCrds === 'Skip' ? templated.crds : [...templated.crds, ...crdFolderOf(chart)];
        return { ...release, crds, ...(resolvedVersion ? { resolvedVersion } : {}), ...(crds.length && !templated.workload ? { crdsOnly: true as const } : {}) };
      } catch (error) {
        return { ...release, crds: [], notRendered: { reason: `not rehearsed: the chart does not render with its values: ${toolSaid(error)}`, fix: `fix the HelmRelease's values (${release.file}), or the chart ${release.chart.url}:${release.chart.version}` } };
      }
    }),
  );
}

/** The tool's own words for a failed pull or render, on one line. */
export function toolSaid(error: unknown): string {
  const problem = error instanceof BootstrapError ? error.problem : String(error);
  const lines = problem.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('(full output'));
  // helm ends a failed render with advice ("Use --debug flag …"): its own error line says what failed.
  const helmError = lines.findLast((l) => l.startsWith('Error: '));
  return helmError?.slice('Error: '.length) ?? lines.at(-1) ?? problem;
}

interface RenderedKinds {
  crds: CrdKind[];
  /** Whether it renders something that runs (a controller can only be one of these). */
  workload: boolean;
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function renderedKinds(text: string): RenderedKinds {
  const objects = loadObjects(text);
  return {
    crds: objects.filter(isCrd).map((crd) => ({ group: crd.spec.group, kind: crd.spec.names.kind, versions: crd.spec.versions.filter((v) => v.served).map((v) => v.name) })),
    workload: objects.some((o) => WORKLOADS.has(o.kind ?? '')),
  };
}
