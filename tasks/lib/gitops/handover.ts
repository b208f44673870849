// The hand-off from the bootstrap to Flux, compared offline: each release `core` installs is paired
// with the HelmRelease of the tree that will manage the same Helm release (helm-controller's release
// name and storage namespace, resolveHelmRelease), and what helm-controller will change on its
// first reconcile is named: the chart, its version and the values it sets, path by path. A twin
// under another name or namespace installs a second release beside the first. A values path that
// switches a chart's own CRD installation moves the CRDs from the crds phase to helm-controller.
// With both sides rendered (handover-renders.ts), what changes is also named object by object.
// Pure: the caller hands in core's releases (helmfile's merged values), the tree's HelmReleases and
// the renders.
import type { KubernetesObject } from '@kubernetes/client-node';
import { sameVersion } from '../tools/chart-pins.ts';
import { describeManifestDiff, diffManifests, manifestChanges, type ManifestDiff } from './manifest-diff.ts';
import { mergeValues } from './helm-values.ts';
import type { Finding, TreeAudit } from './flux-audit.ts';
import type { HelmReleaseSource } from './helmrelease-crds.ts';

/** A release of 01-core as helmfile resolves it. */
export interface CoreRelease {
  name: string;
  namespace: string;
  /** Upstream chart reference, without oci:// and without the mirror (quay.io/jetstack/charts/cert-manager). */
  chart: string;
  version: string;
  /** helmfile's values for it, merged (helmfile write-values). */
  values: Record<string, unknown>;
  /** The state file and the line of its version, for the report. */
  at: string;
}

export type HandoverKind = 'upgrade' | 'crd-ownership' | 'second-release';

export interface ValueDifference {
  path: string;
  core: unknown;
  tree: unknown;
}

export interface Handover {
  /** <namespace>/<name> of core's release. */
  release: string;
  at: string;
  /** The twin (or the HelmRelease of the same chart under another release name or namespace). */
  helmRelease?: { id: string; file: string; kustomization: string; releaseName: string; storageNamespace: string };
  /** unchanged: Flux adopts it as is; none: no HelmRelease of the tree manages it (it stays the bootstrap's). */
  verdict: 'unchanged' | 'none' | 'not-compared' | HandoverKind;
  chart?: { core: string; tree: string };
  version?: { core: string; tree: string };
  values: ValueDifference[];
  /** Values differences marked intended in cluster.yaml (gitops.handover.intended): part of the verdict, not findings. */
  intended: ValueDifference[];
  /** Why it could not be compared (a chart the tree does not resolve offline). */
  reason?: string;
  /** The objects Flux's first reconcile changes: both sides rendered by helm with the same Kubernetes version. */
  manifest?: ManifestDiff;
  /** Why the manifests were not compared (a chart the mirror lacks, values that do not render). */
  manifestUnrendered?: string;
  /**
   * CRDs the tree's render makes release objects of helm-controller that core's render does not
   * (templates/ CRDs behind a switch), and whether `helm.sh/resource-policy: keep` spares each when
   * they leave the release again.
   */
  crdsTaken?: Array<{ name: string; kept: boolean }>;
  /** Set by withSeverities where the hand-off is a finding: its severity. */
  severity?: 'error' | 'warn';
}

export interface IntendedDifference {
  release: string;
  path: string;
  reason: string;
}

/**
 * The values paths by which charts switch the CRDs they template (cert-manager's crds.enabled and
 * installCRDs, external-secrets' and flux-operator's installCRDs, kube-prometheus-stack's
 * crds.enabled, …). The same path on the tree's side turning true gives helm-controller the CRDs.
 */
const CRD_SWITCH = /(^|\.)(installCRDs|crds\.enabled|crds\.install|crds\.create|createCustomResource)$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Leaves of a values tree as dotted paths (a list is one leaf: helm replaces lists whole). */
export function flattenValues(values: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  for (const [key, value] of Object.entries(values)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && Object.keys(value).length > 0) for (const [p, v] of flattenValues(value, path)) leaves.set(p, v);
    else leaves.set(path, value);
  }
  return leaves;
}

/** Every path whose value differs between core's values and the tree's (a missing path is undefined). */
export function valueDifferences(core: Record<string, unknown>, tree: Record<string, unknown>): ValueDifference[] {
  const [a, b] = [flattenValues(core), flattenValues(tree)];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths.filter((p) => JSON.stringify(a.get(p)) !== JSON.stringify(b.get(p))).map((p) => ({ path: p, core: a.get(p), tree: b.get(p) }));
}

/** oci://ghcr.io/x/charts/y → ghcr.io/x/charts/y: the upstream reference both sides are compared by. */
const bareChart = (url: string) => url.replace(/^oci:\/\//, '').replace(/\/$/, '');
export const chartName = (reference: string) => reference.replace(/\/$/, '').split('/').at(-1)!;

/** Does this difference hand a chart's CRDs to helm-controller (the tree turns a CRD switch on)? */
export const movesCrdOwnership = (d: ValueDifference) => CRD_SWITCH.test(d.path) && d.tree === true && d.core !== true;

/** The key of a chart's default values: its upstream reference and version (v-prefix dropped). */
export const chartKey = (reference: string, version: string): string => `${bareChart(reference)}@${version.replace(/^v/, '')}`;

/** The HelmRelease that manages core's release (its twin), else one of the same chart under another release. */
export function counterpartOf(release: CoreRelease, tree: HelmReleaseSource[]): { twin?: HelmReleaseSource; elsewhere?: HelmReleaseSource } {
  const twin = tree.find((hr) => hr.releaseName === release.name && hr.storageNamespace === release.namespace);
  if (twin) return { twin };
  return { elsewhere: tree.find((hr) => !('unresolved' in hr.chart) && chartName(bareChart(hr.chart.url)) === chartName(release.chart)) };
}

/** What helm made of the charts (handover-renders.ts). */
export interface HandoverRenders {
  /** Each chart's own values.yaml by chartKey (helm show values); a chart that could not be read is absent. */
  defaults: Map<string, Record<string, unknown>>;
  /** By core release (<namespace>/<name>): both sides' rendered objects, or why they were not rendered. */
  manifests: Map<string, { core: KubernetesObject[]; tree: KubernetesObject[] } | { unrendered: string }>;
}

/**
 * Values are compared as helm renders them, the chart's defaults coalesced under the values given:
 * a value the tree sets to the chart's default is no difference, and a CRD switch the tree leaves
 * unset takes the chart's default. The rendered manifests, where there are both, say which objects change.
 */
export function compareHandover(core: CoreRelease[], tree: HelmReleaseSource[], intended: IntendedDifference[] = [], renders: HandoverRenders = { defaults: new Map(), manifests: new Map() }): Handover[] {
  const { defaults } = renders;
  const effective = (reference: string, version: string, values: Record<string, unknown>) => mergeValues(defaults.get(chartKey(reference, version)) ?? {}, values);
  return core.map((release): Handover => {
    const id = `${release.namespace}/${release.name}`;
    const { twin, elsewhere } = counterpartOf(release, tree);
    const other = twin ?? elsewhere;
    const base = { release: id, at: release.at, values: [], intended: [] };
    if (!other) return { ...base, verdict: 'none' };
    const helmRelease = { id: `${other.namespace}/${other.name}`, file: other.file, kustomization: other.kustomization, releaseName: other.releaseName, storageNamespace: other.storageNamespace ?? other.namespace };
    if (elsewhere) return { ...base, helmRelease, verdict: 'second-release' };
    if ('unresolved' in other.chart) return { ...base, helmRelease, verdict: 'not-compared', reason: other.chart.unresolved };
    // Values from a Secret or ConfigMap the tree does not hold (an ExternalSecret's, a SOPS file's): half a comparison is none.
    if (other.missingValues.length) return { ...base, helmRelease, verdict: 'not-compared', reason: `its values from ${other.missingValues.join(', ')} are not in the tree` };
    const treeChart = bareChart(other.chart.url);
    const differences = valueDifferences(effective(release.chart, release.version, release.values), effective(other.chart.url, other.chart.version, other.values));
    const isIntended = (d: ValueDifference) => intended.some((i) => i.release === id && (d.path === i.path || d.path.startsWith(`${i.path}.`)));
    const values = differences.filter((d) => !isIntended(d));
    const chart = treeChart !== release.chart ? { core: release.chart, tree: treeChart } : undefined;
    const version = !sameVersion(release.version, other.chart.version) ? { core: release.version, tree: other.chart.version } : undefined;
    // What Flux does, intended or not: an intended difference is still an upgrade, only not a finding.
    const verdict = differences.some(movesCrdOwnership) ? 'crd-ownership' : chart || version || differences.length ? 'upgrade' : 'unchanged';
    const rendered = renders.manifests.get(id);
    const manifest = rendered && 'unrendered' in rendered ? { manifestUnrendered: rendered.unrendered } : rendered ? { manifest: diffManifests(rendered.core, rendered.tree), ...crdsTakenOf(rendered) } : {};
    return { ...base, helmRelease, verdict, ...(chart ? { chart } : {}), ...(version ? { version } : {}), values, intended: differences.filter(isIntended), ...manifest };
  });
}

const KEEP = 'helm.sh/resource-policy';

/** The tree's rendered CRDs that core's render lacks: they become helm-controller's release objects. */
function crdsTakenOf(rendered: { core: KubernetesObject[]; tree: KubernetesObject[] }): Pick<Handover, 'crdsTaken'> {
  const crdNames = (objects: KubernetesObject[]) => objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const coreCrds = new Set(crdNames(rendered.core).map((o) => o.metadata?.name));
  const taken = crdNames(rendered.tree)
    .filter((o) => !coreCrds.has(o.metadata?.name))
    .map((o) => ({ name: o.metadata?.name ?? '', kept: o.metadata?.annotations?.[KEEP] === 'keep' }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return taken.length ? { crdsTaken: taken } : {};
}

/** `CRDs helm-controller takes: a, b (annotated helm.sh/resource-policy: keep, so they stay); c (…)`. */
export function describeCrdsTaken(h: Handover): string | undefined {
  if (!h.crdsTaken) return undefined;
  const kept = h.crdsTaken.filter((c) => c.kept).map((c) => c.name);
  const lost = h.crdsTaken.filter((c) => !c.kept).map((c) => c.name);
  const parts = [
    ...(kept.length ? [`${kept.join(', ')} (annotated ${KEEP}: keep, so they stay)`] : []),
    ...(lost.length ? [`${lost.join(', ')} (not annotated: deleted with every object of their kinds)`] : []),
  ];
  return `CRDs helm-controller takes: ${parts.join('; ')}`;
}

const shown = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/** One line per difference not marked intended: `crds.enabled: false → true`. */
export function describeDifferences(h: Handover): string[] {
  return [
    ...(h.chart ? [`chart: ${h.chart.core} → ${h.chart.tree}`] : []),
    ...(h.version ? [`version: ${h.version.core} → ${h.version.tree}`] : []),
    ...h.values.map((d) => `${d.path}: ${shown(d.core)} → ${shown(d.tree)}`),
  ];
}

/** The objects Flux changes, when both sides were rendered: `changed: Deployment a/b` or `the same objects`. */
export const describeManifest = (h: Handover): string | undefined => (h.manifest ? describeManifestDiff(h.manifest) : h.manifestUnrendered ? `manifests not compared: ${h.manifestUnrendered}` : undefined);

/** An upgrade that renders the very objects core installed: helm's revision moves, nothing in the cluster does. */
export const revisionOnly = (h: Handover): boolean => h.verdict === 'upgrade' && !!h.manifest && manifestChanges(h.manifest) === 0;

/** Is there anything to report: a difference not marked intended that changes objects (or may), or a second release? */
export const unexpected = (h: Handover): boolean => h.verdict === 'second-release' || (describeDifferences(h).length > 0 && !revisionOnly(h));

/** The audit's verdict with the hand-off beside it (the audit task adds it to auditTree's). */
export type AuditWithHandover = TreeAudit & { handover?: Handover[] };

export type HandoverSeverities = Partial<Record<HandoverKind, 'error' | 'warn'>>;

/** A values difference can be intended; a second release or CRDs changing hands is an error unless said otherwise. */
const DEFAULT_SEVERITY: Record<HandoverKind, 'error' | 'warn'> = { upgrade: 'warn', 'crd-ownership': 'error', 'second-release': 'error' };

const INTENDED_FIX = 'or mark each intended difference in cluster.yaml gitops.handover.intended (release, path, reason)';

/** How much a hand-off matters: the configured severity of its verdict; undefined when nothing unexpected happens. */
export function withSeverities(handovers: Handover[], severities: HandoverSeverities = {}): Handover[] {
  return handovers.map((h) => {
    if (h.verdict === 'not-compared') return { ...h, severity: 'warn' };
    if (!h.helmRelease || !unexpected(h) || h.verdict === 'unchanged' || h.verdict === 'none') return h;
    return { ...h, severity: severities[kindOf(h)] ?? DEFAULT_SEVERITY[kindOf(h)] };
  });
}

/** A CRD switch marked intended leaves an ordinary upgrade to report. */
const kindOf = (h: Handover): HandoverKind => (h.verdict === 'crd-ownership' && !h.values.some(movesCrdOwnership) ? 'upgrade' : (h.verdict as HandoverKind));

/** What turning the switch off again does to the CRDs: from the render where there is one. */
function crdFate(h: Handover): string {
  const taken = describeCrdsTaken(h);
  if (!taken) return 'which deletes them if the switch is ever turned off again (unless the chart annotates them helm.sh/resource-policy: keep)';
  return h.crdsTaken!.every((c) => c.kept) ? `which keeps them if the switch is turned off again (${taken})` : `which deletes those not annotated if the switch is ever turned off again (${taken})`;
}

/** The audit's handover findings: every hand-off with a severity (withSeverities). */
export function handoverFindings(handovers: Handover[]): Finding[] {
  return handovers.flatMap((h): Finding[] => {
    if (!h.helmRelease || !h.severity) return [];
    const hr = h.helmRelease;
    const where = { type: 'handover' as const, kustomization: hr.kustomization, file: hr.file, ...(h.severity === 'warn' ? { severity: 'warn' as const } : {}) };
    if (h.verdict === 'not-compared') {
      return [{ ...where, message: `core release ${h.release} (${h.at}) and HelmRelease ${hr.id} not compared: ${h.reason}`, fix: "put the values in the tree (or pin the chart by tag) so the audit can compare them" }];
    }
    const kind = kindOf(h);
    const objects = describeManifest(h);
    const changes = describeDifferences(h).join('; ') + (objects ? `; objects: ${objects}` : '');
    const message = {
      'second-release': `HelmRelease ${hr.id} manages release ${hr.releaseName} in ${hr.storageNamespace}, but core installed ${h.release} (${h.at}): Flux installs a second release of the chart beside the bootstrap's`,
      'crd-ownership': `HelmRelease ${hr.id} turns on the chart's own CRD installation that core keeps off (${changes}): Flux's first reconcile hands the CRDs from the crds phase to helm-controller, ${crdFate(h)}`,
      upgrade: `core release ${h.release} (${h.at}) differs from HelmRelease ${hr.id}: Flux's first reconcile upgrades it right after the bootstrap (${changes})`,
    }[kind];
    const fix = {
      'second-release': `install the release where the tree expects it (namespace ${hr.storageNamespace}, name ${hr.releaseName} in ${h.at.replace(/:\d+$/, '')}), or set the HelmRelease's spec.releaseName/storageNamespace to ${h.release}`,
      'crd-ownership': `keep the CRD switch off in ${hr.file}: the crds phase owns the CRDs and moves them with the pinned chart; ${INTENDED_FIX}`,
      upgrade: `make them agree: 01-core can read the release's values from the tree's own file ({{ .Values.gitopsRoot }}/…, docs/reports.md, hand-off); ${INTENDED_FIX}`,
    }[kind];
    return [{ ...where, message, fix }];
  });
}
