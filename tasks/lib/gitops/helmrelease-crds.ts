// The CRDs a HelmRelease of the GitOps tree installs: its chart (from the OCIRepository or OCI
// HelmRepository it names, through the cluster's registry mirror) rendered with its values.
// CRDs under templates/ are always installed; those in the chart's crds/ folder only unless
// spec.install.crds is Skip (Flux's default is Create). upgrade.crds is reported, not judged.
// A chart that cannot be rendered (unreachable, a digest pin, a chart from an HTTP repository)
// never stops the audit: its HelmRelease carries the reason (notRendered) and becomes a finding.
import type { KubernetesObject } from '@kubernetes/client-node';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ClusterConfig } from '../model/config.ts';
import { isCrd } from '../model/crd-bundle.ts';
import { BootstrapError } from '../runtime/errors.ts';
import type { FluxKustomization } from './flux-tree.ts';
import { runTool } from '../tools/run-tool.ts';
import { loadMachineWritten } from '../runtime/yaml.ts';
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
 * Renders the charts and lists their CRD kinds. Each distinct chart is pulled once; its crds/
 * folder is read once; its templates are rendered once per distinct set of values.
 */
export async function renderHelmReleaseCrds(releases: HelmReleaseSource[], cluster: ClusterConfig, apiVersions: string[]): Promise<HelmReleaseCrds[]> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'helmrelease-crds-'));
  const limit = pLimit(availableParallelism());
  const once = <T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>) => {
    if (!cache.has(key)) cache.set(key, limit(make));
    return cache.get(key)!;
  };
  const pulled = new Map<string, Promise<string>>();
  const crdFolders = new Map<string, Promise<CrdKind[]>>();
  const templates = new Map<string, Promise<CrdKind[]>>();
  const render = async (release: HelmReleaseSource): Promise<HelmReleaseCrds> => {
    if ('unresolved' in release.chart) {
      return { ...release, crds: [], notRendered: { reason: `not rendered: ${release.chart.unresolved}`, fix: 'pin the chart by tag (or a semver range) in an OCIRepository or OCI HelmRepository of the tree, or declare the kinds it serves in cluster.yaml gitops.operators' } };
    }
    const chartKey = `${release.chart.url}@${release.chart.version}`;
    const chartDir = path.join(scratch, `chart-${pulled.size}`);
    let archive: string;
    try {
      archive = await once(pulled, chartKey, () => pullChart(release.chart as { url: string; version: string }, cluster, chartDir, helmRun(release, cluster)));
    } catch (error) {
      return { ...release, crds: [], notRendered: { reason: `not rehearsed: chart unreachable: ${toolSaid(error)}`, fix: reachFix(release.chart, cluster) } };
    }
    const resolved = path.basename(archive, '.tgz').slice(path.basename(release.chart.url).length + 1);
    const resolvedVersion = resolved && resolved !== release.chart.version ? resolved : undefined;
    const helm = helmRun(release, cluster);
    const valuesFile = path.join(scratch, `values-${templates.size}.json`);
    try {
      const [templated, crdsFolder] = await Promise.all([
        once(templates, JSON.stringify([chartKey, release.values]), async () => {
          await writeFile(valuesFile, JSON.stringify(release.values));
          return crdKinds(await helm(['template', release.releaseName, archive, '--namespace', release.targetNamespace, '--values', valuesFile, '--kube-version', `${cluster.kubernetesVersion}.0`, ...apiVersionArgs(apiVersions)]));
        }),
        once(crdFolders, chartKey, async () => crdKinds(await helm(['show', 'crds', archive]))),
      ]);
      return { ...release, crds: release.installCrds === 'Skip' ? templated : [...templated, ...crdsFolder], ...(resolvedVersion ? { resolvedVersion } : {}) };
    } catch (error) {
      return { ...release, crds: [], notRendered: { reason: `not rehearsed: the chart does not render with its values: ${toolSaid(error)}`, fix: `fix the HelmRelease's values (${release.file}), or the chart ${release.chart.url}:${release.chart.version}` } };
    }
  };
  try {
    // Each release settles on its own (a failure is its finding): the scratch folder is removed
    // only once no pull or render is still writing to it.
    return await Promise.all(releases.map(render));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function helmRun(release: HelmReleaseSource, cluster: ClusterConfig) {
  const { url, version } = release.chart as { url: string; version: string };
  return (args: string[]) =>
    runTool({
      tool: 'helm',
      args,
      cluster: cluster.name,
      logName: `helmrelease-${release.name}`,
      subject: `HelmRelease ${release.namespace}/${release.name} (${release.file})`,
      fix: `check the chart ${url}:${version} exists${cluster.registryMirror ? ` in the registry mirror ${cluster.registryMirror.host}` : ''} and that its values render`,
    });
}

/** Where helm finds an upstream oci:// chart: under the registry mirror, which keeps the upstream path. */
export function throughMirror(url: string, cluster: ClusterConfig): string {
  const mirror = cluster.registryMirror;
  return mirror ? `oci://${mirror.host.replace(/\/*$/, '')}/${url.replace(/^oci:\/\//, '')}` : url;
}

/**
 * Pulls the chart (oci://…, through the mirror) into dir with `helm`; returns the archive's path,
 * or with `untar` the chart's folder (for a caller that reads its templates).
 */
export async function pullChart({ url, version }: { url: string; version: string }, cluster: ClusterConfig, dir: string, helm: (args: string[]) => Promise<string>, { untar = false } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await helm(['pull', throughMirror(url, cluster), '--version', version, ...(untar ? ['--untar', '--untardir', dir] : ['--destination', dir]), ...(cluster.registryMirror?.plainHttp ? ['--plain-http'] : [])]);
  const [pulled] = (await readdir(dir)).filter((f) => untar || f.endsWith('.tgz'));
  return path.join(dir, pulled!);
}

/** How to make a chart the audit could not pull reachable: the sandbox push, or the mirror. */
export function reachFix(chart: { url: string; version: string }, cluster: ClusterConfig): string {
  const bare = chart.url.replace(/^oci:\/\//, '');
  const name = path.basename(bare);
  const upstream = path.dirname(bare);
  const mirror = cluster.registryMirror?.host;
  if (!mirror) return `make ${chart.url}:${chart.version} reachable from this machine, or set registryMirror in cluster.yaml to a mirror that holds it`;
  return `copy ${name} ${chart.version} into the registry mirror ${mirror} at ${upstream} (the sandbox: helm pull it where it is reachable, then npm run sandbox -- push ${name}-${chart.version}.tgz --path ${upstream})`;
}

/** helm's `--api-versions` for each API a render may take as served. */
export const apiVersionArgs = (apiVersions: string[]): string[] => apiVersions.flatMap((v) => ['--api-versions', v]);

/** The tool's own words for a failed pull or render, on one line. */
export function toolSaid(error: unknown): string {
  const problem = error instanceof BootstrapError ? error.problem : String(error);
  const lines = problem.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('(full output'));
  // helm ends a failed render with advice ("Use --debug flag …"): its own error line says what failed.
  const helmError = lines.findLast((l) => l.startsWith('Error: '));
  return helmError?.slice('Error: '.length) ?? lines.at(-1) ?? problem;
}

function crdKinds(text: string): CrdKind[] {
  return loadMachineWritten(text)
    .filter((o): o is KubernetesObject => !!o && typeof o === 'object')
    .filter(isCrd)
    .map((crd) => ({ group: crd.spec.group, kind: crd.spec.names.kind, versions: crd.spec.versions.filter((v) => v.served).map((v) => v.name) }));
}
