// One reading of a Flux HelmRelease, as helm-controller reads it, for everything that judges one:
// the audit (from the tree's objects) and the rehearsal's helm-controller stand-in (from the live
// cluster). Where the two read it differently, a rehearsal would prove nothing about the audit.
// Pure: the caller hands in a lookup of the chart sources, ConfigMaps and Secrets it can see.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseValue } from '../runtime/yaml.ts';
import { mergeValues } from './helm-values.ts';

type Obj = KubernetesObject & { spec?: Record<string, any>; data?: Record<string, string>; stringData?: Record<string, string>; sops?: unknown; file?: string };

/** Finds an object the HelmRelease names (OCIRepository, HelmRepository, ConfigMap, Secret). */
export type Lookup = (kind: string, namespace: string, name: string) => Obj | undefined;

export type CrdPolicy = 'Skip' | 'Create' | 'CreateReplace';

export type ResolvedChart =
  | {
      /** oci://…/<chart> at its upstream location. */
      url: string;
      /** A tag, a semver range (helm resolves it against the registry's tags, as source-controller does), or '*'. */
      version: string;
      /** A digest pinned beside the tag: the tag is what is pulled; the digest is not verified offline. */
      digest?: string;
      source: { kind: 'OCIRepository' | 'HelmRepository'; namespace: string; name: string; file?: string };
    }
  | { unresolved: string };

export interface ResolvedHelmRelease {
  name: string;
  namespace: string;
  /** helm-controller's: spec.releaseName, else [<targetNamespace>-]<name>, shortened past 53 characters. */
  releaseName: string;
  /** Where the chart's objects go: spec.targetNamespace, else the HelmRelease's namespace. */
  targetNamespace: string;
  /** Where helm keeps the release: spec.storageNamespace, else the HelmRelease's namespace. */
  storageNamespace: string;
  chart: ResolvedChart;
  /** valuesFrom in order (valuesKey, targetPath), then spec.values on top. */
  values: Record<string, unknown>;
  /** valuesFrom sources that are not there (or cannot be read): helm-controller does not install until they are. */
  missingValues: string[];
  install: { crds: CrdPolicy; createNamespace: boolean; disableWait: boolean; disableTakeOwnership: boolean };
  upgrade: { crds: CrdPolicy };
  timeout: string;
  dependsOn: Array<{ namespace: string; name: string }>;
}

/** helm-controller's release.ShortenName: past 53 characters, the first 40 and 12 hex digits of the name's sha256. */
export function shortenReleaseName(name: string): string {
  if (name.length <= 53) return name;
  return `${name.slice(0, 40)}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

function chartOf(spec: Record<string, any>, namespace: string, lookup: Lookup): ResolvedChart {
  const ref = spec['chartRef'];
  if (ref) {
    if (ref.kind !== 'OCIRepository') return { unresolved: `chartRef kind ${ref.kind} is not resolved (only OCIRepository)` };
    const sourceNamespace = ref.namespace ?? namespace;
    const repo = lookup('OCIRepository', sourceNamespace, ref.name);
    if (!repo) return { unresolved: `OCIRepository ${sourceNamespace}/${ref.name} does not exist` };
    const pin = repo.spec?.['ref'] ?? {};
    const version = pin['tag'] ?? pin['semver'];
    if (!version) return { unresolved: `OCIRepository ${sourceNamespace}/${ref.name} pins ${pin['digest'] ? 'only a digest (ref.digest), which only Flux resolves' : 'no ref.tag, ref.semver or ref.digest'}` };
    const source = { kind: 'OCIRepository' as const, namespace: sourceNamespace, name: ref.name, ...(repo.file ? { file: repo.file } : {}) };
    return { url: String(repo.spec?.['url']), version: String(version), ...(pin['digest'] ? { digest: String(pin['digest']) } : {}), source };
  }
  const chart = spec['chart']?.['spec'];
  if (!chart) return { unresolved: 'neither chartRef nor chart.spec is set' };
  const sourceRef = chart.sourceRef ?? {};
  const sourceNamespace = sourceRef.namespace ?? namespace;
  if (sourceRef.kind !== 'HelmRepository') return { unresolved: `chart ${chart.chart} comes from ${sourceRef.kind} ${sourceRef.name}: only an OCI HelmRepository is resolved` };
  const repo = lookup('HelmRepository', sourceNamespace, sourceRef.name);
  if (!repo) return { unresolved: `HelmRepository ${sourceNamespace}/${sourceRef.name} does not exist` };
  if (repo.spec?.['type'] !== 'oci') return { unresolved: `HelmRepository ${sourceNamespace}/${sourceRef.name} is not an OCI repository (type: oci)` };
  const source = { kind: 'HelmRepository' as const, namespace: sourceNamespace, name: sourceRef.name, ...(repo.file ? { file: repo.file } : {}) };
  // HelmChart's version defaults to '*': the newest tag.
  return { url: `${String(repo.spec?.['url']).replace(/\/$/, '')}/${chart.chart}`, version: String(chart.version ?? '*'), source };
}

/** helm --set's typing of a flat value placed at targetPath: booleans, integers and null, else a string. */
function flatValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  if (/^-?(0|[1-9]\d*)$/.test(text)) return Number(text);
  return text;
}

function atPath(path: string, value: unknown): Record<string, unknown> {
  // Dots split the path, as helm's strvals does; "\." keeps a dot in a key.
  const keys = path.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'));
  return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

interface ValuesReference {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  valuesKey?: string;
  targetPath?: string;
  optional?: boolean;
}

/** The text of a ConfigMap's or Secret's key; undefined when it is not there (or encrypted). */
function keyText(source: Obj | undefined, kind: string, key: string): string | undefined {
  if (!source || source.sops !== undefined) return undefined;
  if (kind === 'Secret') {
    const encoded = source.data?.[key];
    return encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : source.stringData?.[key];
  }
  return source.data?.[key];
}

function valuesOf(spec: Record<string, any>, namespace: string, lookup: Lookup): { values: Record<string, unknown>; missing: string[] } {
  let values: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const from of (spec['valuesFrom'] ?? []) as ValuesReference[]) {
    const key = from.valuesKey ?? 'values.yaml';
    const source = lookup(from.kind, namespace, from.name);
    const text = keyText(source, from.kind, key);
    const what = `${from.kind} ${namespace}/${from.name} key ${key}`;
    if (text === undefined) {
      if (!from.optional) missing.push(source?.sops !== undefined ? `${what} (SOPS-encrypted)` : what);
      continue;
    }
    if (from.targetPath) {
      values = mergeValues(values, atPath(from.targetPath, flatValue(text.trim())));
      continue;
    }
    try {
      values = mergeValues(values, parseValue<Record<string, unknown> | null>(text) ?? {});
    } catch (error) {
      missing.push(`${what} (not YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
    }
  }
  return { values: mergeValues(values, spec['values'] ?? {}), missing };
}

/** The HelmReleases it waits for (spec.dependsOn, in its own namespace unless named): read before anything is looked up. */
export function dependenciesOf(hr: Obj): Array<{ namespace: string; name: string }> {
  const namespace = hr.metadata?.namespace ?? 'default';
  return ((hr.spec?.['dependsOn'] ?? []) as Array<{ name: string; namespace?: string }>).map((d) => ({ namespace: d.namespace ?? namespace, name: d.name }));
}

/** The HelmRelease as helm-controller would install it, with what it names looked up. */
export function resolveHelmRelease(hr: Obj, lookup: Lookup): ResolvedHelmRelease {
  const name = hr.metadata?.name ?? '';
  const namespace = hr.metadata?.namespace ?? 'default';
  const spec = hr.spec ?? {};
  const targetNamespace: string = spec['targetNamespace'] ?? namespace;
  const { values, missing } = valuesOf(spec, namespace, lookup);
  return {
    name,
    namespace,
    releaseName: shortenReleaseName(spec['releaseName'] ?? (spec['targetNamespace'] ? `${spec['targetNamespace']}-${name}` : name)),
    targetNamespace,
    storageNamespace: spec['storageNamespace'] ?? namespace,
    chart: chartOf(spec, namespace, lookup),
    values,
    missingValues: missing,
    install: {
      crds: spec['install']?.['crds'] ?? 'Create',
      createNamespace: spec['install']?.['createNamespace'] === true,
      disableWait: spec['install']?.['disableWait'] === true,
      disableTakeOwnership: spec['install']?.['disableTakeOwnership'] === true,
    },
    upgrade: { crds: spec['upgrade']?.['crds'] ?? 'Skip' },
    timeout: String(spec['timeout'] ?? '5m'),
    dependsOn: dependenciesOf(hr),
  };
}
