// The CRD bundle: every CustomResourceDefinition the pinned charts render, in a stable order,
// with a manifest describing each one. Pure functions; the render task does the I/O.
import { sha256 } from '../runtime/input-hash.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import { BootstrapError } from '../runtime/errors.ts';
import { writeYaml } from '../runtime/yaml.ts';

export interface Crd extends KubernetesObject {
  apiVersion: string;
  kind: 'CustomResourceDefinition';
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string; singular?: string; listKind?: string; shortNames?: string[] };
    versions: CrdVersion[];
    [key: string]: unknown;
  };
  status?: { storedVersions?: string[]; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** A CRD as the API server returns it: the same wire form, with its server-set metadata. */
export interface LiveCrd extends Omit<Crd, 'metadata'> {
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string };
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JsonSchema };
  [key: string]: unknown;
}

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  additionalProperties?: JsonSchema | boolean;
  [key: string]: unknown;
}

export interface ManifestEntry {
  name: string;
  group: string;
  kind: string;
  plural: string;
  scope: string;
  versions: string[];
  storageVersion: string;
  /** Size of the object as JSON, which is what the API server stores and the 256 KB annotation limit counts. */
  bytes: number;
  sha256: string;
  release: string;
}

export interface BundleManifest {
  cluster: string;
  environment: string;
  /** How many CRDs crds.yaml holds; loading checks it (absent in bundles of older versions). */
  count?: number;
  /** sha256 of the render's inputs (renderInputsHash); a bundle whose inputs changed is stale. */
  inputsSha256?: string;
  /**
   * sha256 of crds.yaml and crds.json as written. crds.json is the same CRDs for the engine:
   * JSON.parse reads it 14x faster than js-yaml reads the YAML (npm run benchmark, line 2b).
   */
  fileSha256?: { yaml: string; json: string };
  /** The cluster whose render this bundle copies, when it was reused. */
  reusedFrom?: string;
  crds: ManifestEntry[];
}

/**
 * What the crds phase adds to the API server's capabilities, as helm's `--api-versions` takes them
 * (`group/version` and `group/version/Kind`): charts gate objects on
 * `.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"`, and helm-controller renders with the
 * cluster's capabilities, which include these from the moment Flux starts.
 */
export function servedApiVersions(entries: Array<{ group: string; kind: string; versions: string[] }>): string[] {
  return [...new Set(entries.flatMap((crd) => crd.versions.flatMap((v) => [`${crd.group}/${v}`, `${crd.group}/${v}/${crd.kind}`])))];
}

export function isCrd(object: KubernetesObject): object is Crd {
  return object.kind === 'CustomResourceDefinition' && (object.apiVersion ?? '').startsWith('apiextensions.k8s.io/');
}

/**
 * Keeps only the CRDs of each release's rendered output (this replaces a yq post-renderer,
 * which Helm 4 no longer accepts) and fails on a release that renders none: that release's
 * CRD switch is off (cert-manager renders zero CRDs unless crds.enabled is true).
 */
export function selectCrds(rendered: Map<string, KubernetesObject[]>): Array<{ crd: Crd; release: string }> {
  const byName = new Map<string, { crd: Crd; release: string }>();
  for (const [release, objects] of rendered) {
    const crds = objects.filter(isCrd);
    if (crds.length === 0) {
      throw new BootstrapError({
        subject: `release "${release}" in helmfile.d/00-crds.yaml.gotmpl`,
        problem: 'renders no CustomResourceDefinition',
        fix: "turn the chart's CRD switch on for the CRD phase (cert-manager: crds.enabled: true; external-secrets and flux-operator: installCRDs: true), or remove the release from 00-crds",
      });
    }
    for (const crd of crds) {
      const existing = byName.get(crd.metadata.name);
      if (existing && existing.release !== release) {
        throw new BootstrapError({
          subject: `CRD ${crd.metadata.name}`,
          problem: `rendered by both "${existing.release}" and "${release}"`,
          fix: `disable it in one of the two releases so exactly one chart owns it`,
        });
      }
      byName.set(crd.metadata.name, { crd, release });
    }
  }
  return [...byName.values()].sort((a, b) => a.crd.metadata.name.localeCompare(b.crd.metadata.name));
}

/** Which release and chart version a live CRD came from: drift compares it across clusters. */
export const SOURCE_ANNOTATION = 'cluster-bootstrap.io/source';
/** The hash of what was applied: a rerun skips a CRD whose live hash matches and nobody else edited. */
export const HASH_ANNOTATION = 'cluster-bootstrap.io/sha256';
/**
 * Helm reads this annotation on the LIVE object before deleting anything a release no longer
 * renders (upgrade, uninstall, rollback; by helmfile or Flux's helm-controller alike). Every CRD
 * the crds phase applies carries it, so a release whose CRD switch goes from on to off (or a
 * chart bump that drops a CRD) can never delete a CRD, and with it every object of its kind.
 */
export const KEEP_ANNOTATION = 'helm.sh/resource-policy';
/**
 * The hash of the spec as the API server stored it (defaults filled in), set by the crds phase
 * when it applies. A live CRD whose spec no longer hashes to it was changed after that apply,
 * by whatever field manager: "unchanged" is never taken on the word of an annotation alone.
 */
export const STORED_HASH_ANNOTATION = 'cluster-bootstrap.io/stored-sha256';
export const KEEP = 'keep';

/** Hash of a spec as the API server returns it (wire form, the same for dry-run results and lists). */
export function storedSpecHash(spec: unknown): string {
  return sha256(JSON.stringify(spec ?? null));
}

export function isKept(object: KubernetesObject): boolean {
  return object.metadata?.annotations?.[KEEP_ANNOTATION] === KEEP;
}

export function contentHash(crd: Crd): string {
  return sha256(JSON.stringify(crd));
}

/**
 * Stamps what the crds phase owns: the source release, the keep policy and, last, the content
 * hash (which covers everything but itself, the keep policy included, so a cluster whose CRDs
 * lack it sees them as "update" in plan and gets it on the next crds run).
 */
export function stampSource(crd: Crd, release: string, chartVersion: string): Crd {
  const owned = { [SOURCE_ANNOTATION]: `${release}@${chartVersion}`, [KEEP_ANNOTATION]: KEEP };
  const sourced: Crd = { ...crd, metadata: { ...crd.metadata, annotations: { ...crd.metadata.annotations, ...owned } } };
  const annotations = { ...sourced.metadata.annotations, [HASH_ANNOTATION]: contentHash(sourced) };
  return { ...sourced, metadata: { ...sourced.metadata, annotations } };
}

export function storageVersion(crd: Crd): string {
  return crd.spec.versions.find((v) => v.storage)?.name ?? '';
}

export function manifestEntry(crd: Crd, release: string): ManifestEntry {
  const json = JSON.stringify(crd);
  const sha256 = crd.metadata.annotations?.[HASH_ANNOTATION] ?? contentHash(crd);
  return {
    name: crd.metadata.name,
    group: crd.spec.group,
    kind: crd.spec.names.kind,
    plural: crd.spec.names.plural,
    scope: crd.spec.scope,
    versions: crd.spec.versions.filter((v) => v.served).map((v) => v.name),
    storageVersion: storageVersion(crd),
    bytes: Buffer.byteLength(json),
    sha256,
    release,
  };
}

export function bundleYaml(crds: Crd[]): string {
  return crds.map((crd) => writeYaml(crd)).join('---\n');
}
