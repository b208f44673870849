// cluster.yaml: the typed, validated description of one cluster. Validated before anything
// touches a cluster; every error names the file and the key.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { closest as closestMatch, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { RULES, type CrdRule } from './crd-rules.ts';
import { DEFAULT_KUBERNETES_MINOR, KUBERNETES_MINORS } from './kubernetes-versions.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { clusterDir, paths, relative } from '../runtime/workspace.ts';
import { parseHandWrittenDocument } from '../runtime/yaml.ts';

const secretSource = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }),
  z.strictObject({ op: z.string().startsWith('op://', 'must be a 1Password reference like op://vault/item/field') }),
]);

const secret = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  type: z.string().default('Opaque'),
  data: z.record(z.string(), secretSource),
});

const condition = z.strictObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
  type: z.string().default('Ready'),
  status: z.enum(['True', 'False', 'Unknown']).default('True'),
});

/** A path inside the workspace or the GitOps repository: relative, never climbing out. */
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), 'must be a relative path without ".."');

const operator = z.strictObject({
  /** Who registers the kinds, for messages (e.g. cilium-operator). */
  name: z.string().min(1),
  /** The HelmRelease (in the tree) or helmfile.d release (bootstrap) that runs the operator. */
  release: z.string().min(1),
  /** API groups whose kinds the operator creates CRDs for at run time. */
  groups: z.array(z.string().min(1)).min(1),
});

export const clusterSchema = z.strictObject({
  /** Kubeconfig file, relative to cluster.yaml. Default: $KUBECONFIG, else ~/.kube/config. */
  kubeconfig: z.string().optional(),
  /** Always named explicitly: never "whatever context is current". */
  context: z.string().min(1),
  /** Who the context must point at; checked before any write. */
  identity: z
    .strictObject({
      server: z.url().optional(),
      kubeSystemUID: z.string().optional(),
    })
    .refine((id) => id.server !== undefined || id.kubeSystemUID !== undefined, {
      message: 'pin at least one of server or kubeSystemUID',
    }),
  helmfile: z.strictObject({ environment: z.string().min(1) }),
  /** The cluster's Kubernetes minor version: which built-in kinds the coverage audit accepts. */
  kubernetesVersion: z
    .enum(KUBERNETES_MINORS, { error: `must be a Kubernetes minor version with a built-in kind list: ${KUBERNETES_MINORS.map((m) => `"${m}"`).join(', ')}` })
    .default(DEFAULT_KUBERNETES_MINOR),
  /**
   * What the cluster's API server runs with beyond its defaults, as real trees rely on it (an HPA
   * with minReplicas 0 needs HPAScaleToZero). Applied to the sandbox and the rehearsal's plane,
   * checked against the gates the pinned kube-apiserver knows (cluster/feature-gates.ts).
   */
  kubernetes: z
    .strictObject({
      featureGates: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a feature gate name like HPAScaleToZero'), z.boolean()).default({}),
      /** --runtime-config: API groups/versions switched on or off, e.g. resource.k8s.io/v1beta1: true. */
      runtimeConfig: z.record(z.string().regex(/^[a-z0-9.\/-]+$/, 'must be an API group/version like resource.k8s.io/v1beta1 or api/all'), z.boolean()).default({}),
    })
    .default({ featureGates: {}, runtimeConfig: {} }),
  /** Pull every chart from a mirror that keeps the upstream path (air-gapped clusters, the sandbox). */
  registryMirror: z
    .strictObject({
      host: z
        .string()
        .refine((host) => !host.includes('://'), 'must not have a scheme: write host[:port][/path], e.g. 127.0.0.1:15000 (plain HTTP is plainHttp: true)')
        .regex(/^[^/\s]+(\/[^\s]*)?$/, 'must be host[:port][/path] without a scheme'),
      plainHttp: z.boolean().default(false),
    })
    .optional(),
  prerequisites: z
    .strictObject({
      secrets: z.array(secret).default([]),
    })
    .default({ secrets: [] }),
  verify: z
    .strictObject({
      conditions: z.array(condition).default([]),
    })
    .default({ conditions: [] }),
  /** The GitOps tree Flux reconciles on this cluster: what audit rehearses and verify dry-runs. */
  gitops: z
    .strictObject({
      /** The repository root Flux sees, relative to the workspace root (spec.path is relative to it). */
      root: relativePath.default('.'),
      /** The path the cluster's root Flux Kustomization (the FluxInstance sync) reconciles. */
      entry: relativePath,
      /** The folders of the repository the tree lives in (default: the entry's first folder). */
      folders: z.array(relativePath).optional(),
      /** Kinds that an operator registers at run time (added to the shipped defaults). */
      operators: z.array(operator).default([]),
      /** API groups the platform itself serves, from no release (e.g. talos.dev on Talos). */
      platformGroups: z.array(z.string().min(1)).default([]),
      /**
       * A chart helmfile.d pins at one version and the tree at another (audit's version-skew):
       * warn lists it, error fails the audit (docs/pull-requests.md).
       */
      pinSkew: z.enum(['warn', 'error']).default('warn'),
      /**
       * Flux sources other than the one the FluxInstance syncs, as local checkouts:
       * "GitRepository/<namespace>/<name>" → a folder (relative to the workspace root, or absolute).
       * A Kustomization from an unmapped source is reported as not rehearsed.
       */
      sources: z.record(z.string().regex(/^(GitRepository|OCIRepository|Bucket)\/[a-z0-9.-]+\/[a-z0-9.-]+$/, 'must be <Kind>/<namespace>/<name>'), z.string().min(1)).default({}),
      /**
       * The hand-off from core's releases to the tree's HelmReleases (audit's handover finding,
       * docs/reports.md, hand-off): severities per kind, and value paths a team means to differ.
       */
      handover: z
        .strictObject({
          severities: z.partialRecord(z.enum(['upgrade', 'crd-ownership', 'second-release']), z.enum(['error', 'warn'])).default({}),
          intended: z
            .array(
              z.strictObject({
                release: z.string().regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, 'must be <namespace>/<release> of a core release'),
                path: z.string().min(1),
                reason: z.string().min(1),
              }),
            )
            .default([]),
        })
        .default({ severities: {}, intended: [] }),
    })
    .optional(),
  /** Severities of the CRD change rules (docs/rules.md). */
  crdRules: z
    .strictObject({
      severities: z.partialRecord(z.enum(Object.keys(RULES) as [CrdRule, ...CrdRule[]]), z.enum(['error', 'warn', 'info'])).default({}),
      /** Schema changes no rule understands block the CRD phase (default: listed as info). */
      failOnUnknown: z.boolean().default(false),
    })
    .default({ severities: {}, failOnUnknown: false }),
  drift: z
    .strictObject({
      /** CRDs other tooling owns (e.g. the sandbox's kwok Stage CRD): drift does not report them. */
      ignoreCrds: z.array(z.string()).default([]),
    })
    .default({ ignoreCrds: [] }),
  /** How the local sandbox runs this cluster (ignored for real clusters). */
  sandbox: z
    .strictObject({
      apiServerPort: z.number().int().min(1024).max(65535),
      nodes: z.number().int().min(1).max(20).default(1),
    })
    .optional(),
});

export type ClusterSpec = z.infer<typeof clusterSchema>;
export type SecretSpec = z.infer<typeof secret>;
export type ConditionCheck = z.infer<typeof condition>;
export type OperatorSpec = z.infer<typeof operator>;

export interface ClusterConfig extends ClusterSpec {
  name: string;
  dir: string;
  file: string;
  /** Absolute kubeconfig path, or undefined for the client's default lookup. */
  kubeconfigPath: string | undefined;
}

/** Every cluster folder under clusters/ (a folder is a cluster; its cluster.yaml says the rest). */
export async function clusterNames(): Promise<string[]> {
  const entries = await readdir(paths.clusters, { withFileTypes: true });
  return entries.filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

export async function loadCluster(name: string): Promise<ClusterConfig> {
  const dir = clusterDir(name);
  const file = path.join(dir, 'cluster.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new BootstrapError({
      subject: relative(file),
      problem: `no cluster named "${name}"`,
      fix: `create ${relative(file)}, or pick one of the folders under clusters/`,
      cause,
    });
  }
  const spec = parseClusterYaml(text, relative(file));
  if (spec.helmfile.environment !== name) {
    // helmfile.d's environment reads clusters/<environment>/values.yaml: another name would
    // quietly render this cluster with another cluster's values.
    throw new BootstrapError({
      subject: `${relative(file)}: helmfile.environment`,
      problem: `is "${spec.helmfile.environment}", but the cluster folder is "${name}" (helmfile.d reads clusters/<environment>/values.yaml)`,
      fix: `set helmfile.environment: ${name}`,
    });
  }
  return {
    ...spec,
    name,
    dir,
    file,
    kubeconfigPath: spec.kubeconfig ? path.resolve(dir, spec.kubeconfig) : undefined,
  };
}

export function parseClusterYaml(text: string, fileLabel: string): ClusterSpec {
  const doc = parseHandWrittenDocument(text);
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    // The parser reports an unclosed quote where the file ends; the user needs where it opened.
    const opened = error.code === 'MISSING_CHAR' && /quote/.test(error.message) ? unclosedQuoteLine(text) : undefined;
    throw new BootstrapError({
      subject: opened ? `${fileLabel}:${opened.line}` : fileLabel,
      problem: opened ? `invalid YAML: the quote opened on line ${opened.line} is never closed: ${opened.text.trim()}` : `invalid YAML: ${error.message}`,
      fix: opened ? 'close the quote on that line' : 'fix the YAML syntax at the line shown',
    });
  }
  const result = clusterSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) {
    // A misspelled key also makes the real key "missing": the spelling is the useful report.
    const issues = result.error.issues;
    const first = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
    throw new BootstrapError({
      subject: `${fileLabel}: ${describeIssuePath(first!)}`,
      problem: describeIssue(first!),
      fix: fixFor(first!),
    });
  }
  return result.data;
}

/** The first line whose quotes do not pair up (outside comments), 1-based. */
export function unclosedQuoteLine(text: string): { line: number; text: string } | undefined {
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const code = line.replace(/\\./g, '').replace(/\s#.*$/, '');
    const doubles = (code.match(/"/g) ?? []).length;
    const singles = (code.replace(/"[^"]*"/g, '').match(/'/g) ?? []).length;
    if (doubles % 2 === 1 || singles % 2 === 1) return { line: index + 1, text: line };
  }
  return undefined;
}

type Issue = z.core.$ZodIssue;

function describeIssuePath(issue: Issue): string {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k));
    return keys.join(', ');
  }
  return at || '(top level)';
}

function describeIssue(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.length === 1 ? `unknown key "${issue.keys[0]}"` : `unknown keys ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return issue.message;
}

function fixFor(issue: Issue): string {
  if (issue.code === 'unrecognized_keys' && issue.path.join('.') === 'verify' && issue.keys.includes('gitops')) {
    // verify.gitops listed raw files; Flux applies built Kustomizations, so the tree is named by its entry.
    return 'verify.gitops was replaced by the gitops section: set gitops.entry to the path your root Flux Kustomization reconciles (e.g. kubernetes/flux/cluster)';
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    const suggestion = known ? closest(issue.keys[0]!, known) : undefined;
    return suggestion
      ? `did you mean "${suggestion}"? (known keys here: ${known!.join(', ')})`
      : `remove it; known keys here: ${known?.join(', ') ?? 'see docs/cluster-yaml.md'}`;
  }
  return 'see the cluster.yaml reference: docs/cluster-yaml.md';
}

function knownKeysAt(issuePath: PropertyKey[]): string[] | undefined {
  let schema: z.ZodType = clusterSchema;
  for (const segment of issuePath) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = schema.shape[segment as string] as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else return undefined;
    if (!schema) return undefined;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  // Optional, default and refine wrappers hide the object whose keys we want to list.
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else return current;
  }
}

/** The known key within edit distance 2 of a misspelling, if any. */
function closest(word: string, candidates: string[]): string | undefined {
  const best = closestMatch(word, candidates);
  return best && distance(word.toLowerCase(), best.toLowerCase()) <= 2 ? best : undefined;
}
