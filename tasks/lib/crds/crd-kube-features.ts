// Which kube-apiserver minor a CRD needs: the schema features and CEL libraries it uses, each
// with the first minor whose API server accepts it in a new CRD. A CRD that needs more than the
// cluster's minor is refused when the crds phase applies it (a field the server does not know is
// dropped, which is worse: the validation silently vanishes).
import type { Crd, JsonSchema } from '../model/crd-bundle.ts';
import { minorOf } from '../model/kubernetes-versions.ts';

export interface KubeFeature {
  name: string;
  /** The first minor that accepts it in a CRD created or updated today ("1.34"). */
  minimum: string;
  /** Where the minimum comes from. */
  source: string;
}

interface SchemaFeature extends KubeFeature {
  /** Whether one x-kubernetes-validations rule uses it. */
  inRule(rule: ValidationRule): boolean;
}

interface ValidationRule {
  rule?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

const FEATURE_GATES = 'k8s.io/apiextensions-apiserver pkg/features/kube_features.go (v0.33.13)';

/** Fields of x-kubernetes-validations, by the release that added them. */
const RULE_FIELDS: SchemaFeature[] = [
  {
    name: 'x-kubernetes-validations',
    minimum: '1.25',
    source: 'feature gate CustomResourceValidationExpressions on by default (beta) in k8s.io/apiserver v0.25.0 pkg/features/kube_features.go',
    inRule: () => true,
  },
  {
    name: 'x-kubernetes-validations messageExpression',
    minimum: '1.27',
    source: 'the field first appears in k8s.io/apiextensions-apiserver v0.27.0 (pkg/apis/apiextensions/v1/types_jsonschema.go)',
    inRule: (r) => r.messageExpression !== undefined,
  },
  {
    name: 'x-kubernetes-validations reason',
    minimum: '1.28',
    source: 'the field first appears in k8s.io/apiextensions-apiserver v0.28.0 (pkg/apis/apiextensions/v1/types_jsonschema.go)',
    inRule: (r) => r.reason !== undefined,
  },
  {
    name: 'x-kubernetes-validations fieldPath',
    minimum: '1.28',
    source: 'the field first appears in k8s.io/apiextensions-apiserver v0.28.0 (pkg/apis/apiextensions/v1/types_jsonschema.go)',
    inRule: (r) => r.fieldPath !== undefined,
  },
  {
    name: 'x-kubernetes-validations optionalOldSelf',
    minimum: '1.30',
    source: `feature gate CRDValidationRatcheting on by default (beta) in 1.30, ${FEATURE_GATES}`,
    inRule: (r) => r.optionalOldSelf === true,
  },
];

const SELECTABLE_FIELDS: KubeFeature = {
  name: 'spec.versions[].selectableFields',
  minimum: '1.31',
  source: `feature gate CustomResourceFieldSelectors on by default (beta) in 1.31, ${FEATURE_GATES}`,
};

interface CelLibrary {
  name: string;
  /** IntroducedVersion in k8s.io/apiserver pkg/cel/environment/base.go (v0.37.2). */
  introduced: number;
  uses: RegExp;
}

/**
 * CEL libraries by the minor that introduced them. A new CRD's expressions are compiled for the
 * server's compatibility version, one minor back (DefaultCompatibilityVersion, base.go), so a
 * library introduced in 1.N is accepted in new CRDs from 1.N+1 on. Matched by the functions and
 * macros each adds, in CEL with its string literals removed.
 */
const CEL_LIBRARIES: CelLibrary[] = [
  { name: 'CEL quantity library', introduced: 28, uses: /\b(isQuantity|quantity)\s*\(/ },
  { name: 'CEL optional types', introduced: 28, uses: /\.\?[A-Za-z_]|\[\?|\boptional\.(of|ofNonZeroValue|none)\s*\(|\.(orValue|hasValue)\s*\(/ },
  { name: 'CEL sets library', introduced: 29, uses: /\bsets\.(contains|equivalent|intersects)\s*\(/ },
  { name: 'CEL IP and CIDR libraries', introduced: 30, uses: /\b(isIP|ip|isCIDR|cidr)\s*\(|\bip\.isCanonical\s*\(/ },
  { name: 'CEL format library', introduced: 31, uses: /\bformat\.[A-Za-z0-9]+\s*\(/ },
  {
    name: 'CEL two-variable comprehensions',
    introduced: 32,
    uses: /\.(all|exists|existsOne|exists_one)\s*\(\s*[A-Za-z_]\w*\s*,\s*[A-Za-z_]\w*\s*,|\.(transformList|transformMap|transformMapEntry)\s*\(/,
  },
  { name: 'CEL semver library', introduced: 33, uses: /\b(isSemver|semver)\s*\(/ },
  { name: 'CEL extended lists library (cel-go ext.Lists v3)', introduced: 34, uses: /\blists\.range\s*\(|\.(distinct|flatten|reverse|slice|sort|sortBy)\s*\(/ },
  { name: 'CEL lists library v1 (includes)', introduced: 37, uses: /\.includes\s*\(/ },
];

const celFeature = (lib: CelLibrary): KubeFeature => ({
  name: lib.name,
  minimum: `1.${lib.introduced + 1}`,
  source: `introduced in 1.${lib.introduced} (k8s.io/apiserver pkg/cel/environment/base.go, v0.37.2); new CRD expressions compile for one minor back`,
});

export interface FeatureUse extends KubeFeature {
  /** Where in the CRD: "v1 spec.groups[].rules" (version, then the schema path). */
  at: string;
}

/** Every feature the CRD uses, with where (one entry per feature and version). */
export function featuresOf(crd: Crd): FeatureUse[] {
  const uses = new Map<string, FeatureUse>();
  const add = (feature: KubeFeature, at: string) => {
    const key = `${feature.name} ${at.split(' ')[0]}`;
    if (!uses.has(key)) uses.set(key, { ...feature, at });
  };
  for (const version of crd.spec.versions) {
    if ((version as { selectableFields?: unknown[] }).selectableFields?.length) add(SELECTABLE_FIELDS, `${version.name} selectableFields`);
    const schema = version.schema?.openAPIV3Schema;
    if (!schema) continue;
    for (const { rule, path } of rulesIn(schema, '')) {
      const at = `${version.name} ${path || '(root)'}`;
      for (const feature of RULE_FIELDS) if (feature.inRule(rule)) add(feature, at);
      const code = [rule.rule, rule.messageExpression].filter((c): c is string => !!c).map(withoutStringLiterals).join('\n');
      for (const lib of CEL_LIBRARIES) if (lib.uses.test(code)) add(celFeature(lib), at);
    }
  }
  return [...uses.values()];
}

/** The features the CRD uses that the minor does not accept yet. */
export function featuresAbove(crd: Crd, minor: string): FeatureUse[] {
  return featuresOf(crd).filter((f) => minorOf(f.minimum) > minorOf(minor));
}

function* rulesIn(schema: JsonSchema, path: string): Generator<{ rule: ValidationRule; path: string }> {
  const s = schema as JsonSchema & Record<string, unknown>;
  for (const rule of (s['x-kubernetes-validations'] as ValidationRule[] | undefined) ?? []) yield { rule, path };
  for (const [name, child] of Object.entries((s['properties'] as Record<string, JsonSchema> | undefined) ?? {})) yield* rulesIn(child, path ? `${path}.${name}` : name);
  const items = s['items'];
  if (items && typeof items === 'object') yield* rulesIn(items as JsonSchema, `${path}[]`);
  const additional = s['additionalProperties'];
  if (additional && typeof additional === 'object') yield* rulesIn(additional as JsonSchema, `${path}{}`);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    for (const branch of (s[key] as JsonSchema[] | undefined) ?? []) yield* rulesIn(branch, path);
  }
  if (s['not'] && typeof s['not'] === 'object') yield* rulesIn(s['not'] as JsonSchema, path);
}

/** CEL with its string literals emptied: a message saying "ip(s)" is not a call of ip(). */
export function withoutStringLiterals(cel: string): string {
  return cel.replace(/[rRbB]?("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')/g, "''");
}
