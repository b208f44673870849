// CRD change rules, applied between the live CRD and the one about to be applied, or between two
// bundles. Each rule says why it breaks someone and how badly by default (error blocks the CRD
// phase, warn is printed, info is listed); cluster.yaml's crdRules can change any severity.
// The API server is the exact judge (upgrade-check); these rules are the fast, cluster-free first
// look. Names follow kubernetes-sigs/crdify where the meaning is the same (the `crdify` field).
import type { Crd, CrdVersion, JsonSchema } from '../model/crd-bundle.ts';
import { storageVersion } from '../model/crd-bundle.ts';
import { RULES, type CrdRule, type Severity } from '../model/crd-rules.ts';
import { code, md } from '../runtime/markdown.ts';

export interface CrdChange {
  crd: string;
  rule: CrdRule;
  severity: Severity;
  /** The crdify rule of the same meaning (crdify's bounds and pattern rules are named by keyword). */
  crdify?: string;
  version?: string;
  field?: string;
  detail: string;
}
export type BreakingChange = CrdChange;

export interface RuleSettings {
  /** Per-rule severity overrides. */
  severities?: Partial<Record<CrdRule, Severity>>;
  /** Schema changes no rule understands are errors, not info. */
  failOnUnknown?: boolean;
}

export interface CompareOptions {
  /** Two bundles (no status): a removed version may still be in status.storedVersions. */
  bundles?: boolean;
}

const served = (crd: Crd) => crd.spec.versions.filter((v) => v.served);

/** Every change between two CRDs, with its default severity. */
export function crdChanges(before: Crd, after: Crd, { bundles = false }: CompareOptions = {}): CrdChange[] {
  const crd = after.metadata.name;
  const changes: CrdChange[] = [];
  const add = (rule: CrdRule, detail: string, at: { version?: string; field?: string; severity?: Severity; crdify?: string } = {}) =>
    changes.push({ crd, rule, severity: at.severity ?? RULES[rule].severity, crdify: at.crdify ?? RULES[rule].crdify, ...(at.version && { version: at.version }), ...(at.field && { field: at.field }), detail });
  const afterVersions = new Map(after.spec.versions.map((v) => [v.name, v]));

  // Clients and stored objects of a removed served version stop working at once.
  for (const version of served(before)) {
    if (!afterVersions.get(version.name)?.served) add('served-version-removed', `version ${version.name} is no longer served`, { version: version.name });
  }
  // The API server refuses a CRD that drops a version still listed in status.storedVersions:
  // objects stored in it would become unreadable. Migrate them first (migrate-storage).
  for (const version of before.status?.storedVersions ?? []) {
    if (!afterVersions.has(version)) add('stored-version-removed', `version ${version} is in status.storedVersions but removed (nx run <cluster>:migrate-storage rewrites the objects, then prunes it)`, { version });
  }
  // Between bundles there is no status: any removed version may still hold stored objects.
  if (bundles) {
    for (const version of before.spec.versions) {
      if (!afterVersions.has(version.name)) add('version-removed', `version ${version.name} is removed: it may still be in status.storedVersions`, { version: version.name });
    }
  }
  // Objects stay stored in the old version until rewritten; harmless while it is still served.
  const [oldStorage, newStorage] = [storageVersion(before), storageVersion(after)];
  if (oldStorage && newStorage && oldStorage !== newStorage) {
    const stillServed = afterVersions.get(oldStorage)?.served === true;
    add('storage-version-changed', `storage version ${oldStorage} → ${newStorage}${stillServed ? ` (${oldStorage} is still served)` : ''}`, { version: newStorage, severity: stillServed ? 'info' : 'error' });
  }
  // The API server forbids changing scope; every existing object would have the wrong shape.
  if (before.spec.scope !== after.spec.scope) add('scope-changed', `scope ${before.spec.scope} → ${after.spec.scope}`);
  for (const version of served(after)) {
    const old = before.spec.versions.find((v) => v.name === version.name && v.served);
    if (!old) continue;
    for (const sub of ['status', 'scale'] as const) {
      // Controllers writing status (or autoscalers using scale) get 404 on the subresource.
      if (subresources(old)[sub] && !subresources(version)[sub]) add('subresource-removed', `the ${sub} subresource was removed`, { version: version.name });
    }
    const hasStatus = !!subresources(version)['status'];
    for (const change of schemaChanges(crd, version.name, schemaOf(old), schemaOf(version), '')) {
      // Users never write status when it is a subresource: changes there are the controller's.
      const inStatus = hasStatus && (change.field === '.status' || change.field?.startsWith('.status.') || change.field?.startsWith('.status['));
      changes.push(inStatus ? { ...change, severity: 'info' } : change);
    }
  }
  return changes;
}

/** Applies cluster.yaml's severities; "unknown" changes fail closed only when asked. */
export function withSettings(changes: CrdChange[], { severities = {}, failOnUnknown = false }: RuleSettings = {}): CrdChange[] {
  return changes.map((c) => {
    const override = severities[c.rule] ?? (c.rule === 'unknown-change' && failOnUnknown ? 'error' : undefined);
    return override ? { ...c, severity: override } : c;
  });
}

/** The changes that block: severity error after the cluster's settings. */
export function breakingChanges(before: Crd, after: Crd, settings: RuleSettings = {}, options: CompareOptions = {}): CrdChange[] {
  return withSettings(crdChanges(before, after, options), settings).filter((c) => c.severity === 'error');
}

function subresources(version: CrdVersion): Record<string, unknown> {
  return (version['subresources'] ?? {}) as Record<string, unknown>;
}

function schemaOf(version: CrdVersion): JsonSchema | undefined {
  return version.schema?.openAPIV3Schema;
}

type Node = JsonSchema & Record<string, any>;

/** The values a node allows: its enum ∩ every allOf enum, ∪ across anyOf/oneOf branches when each has one. */
export function effectiveEnum(node: Node | undefined): Set<string> | undefined {
  if (!node) return undefined;
  let allowed: Set<string> | undefined = node.enum ? new Set(node.enum.map((v) => JSON.stringify(v))) : undefined;
  for (const part of (node['allOf'] ?? []) as Node[]) {
    const inner = effectiveEnum(part);
    if (inner) allowed = allowed ? new Set([...allowed].filter((v) => inner.has(v))) : inner;
  }
  for (const key of ['anyOf', 'oneOf']) {
    const branches = ((node[key] ?? []) as Node[]).map(effectiveEnum);
    if (branches.length && branches.every(Boolean)) {
      const union = new Set(branches.flatMap((b) => [...b!]));
      allowed = allowed ? new Set([...allowed].filter((v) => union.has(v))) : union;
    }
  }
  return allowed;
}

/** int-or-string counts as a type of its own. */
export function effectiveType(node: Node): string | undefined {
  return node['x-kubernetes-int-or-string'] ? 'int-or-string' : node.type;
}

/** Every value of `from` is valid for `to`: integer → number, integer or string → int-or-string. */
function widens(from: string, to: string): boolean {
  return (from === 'integer' && to === 'number') || (to === 'int-or-string' && (from === 'integer' || from === 'string'));
}

const LIST_STRICTNESS: Record<string, number> = { atomic: 0, set: 1, map: 2 };
const LOWER_BOUNDS = ['minimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'maxLength', 'maxItems', 'maxProperties'] as const;
/** Keys the rules below understand; a change in any other key is an "unknown" change. */
const KNOWN = new Set([
  'type', 'properties', 'items', 'required', 'enum', 'additionalProperties', 'description', 'default', 'pattern', 'format', 'nullable',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-int-or-string',
  'x-kubernetes-validations', 'allOf', 'anyOf', 'oneOf', 'example', ...LOWER_BOUNDS, ...UPPER_BOUNDS,
]);
const json = (v: unknown) => JSON.stringify(v ?? null);
const withoutEnums = (branches: unknown) => json(((branches ?? []) as Node[]).map(({ enum: _e, ...rest }) => rest));

/** Walks two schemas side by side; `path` is a field path such as .spec.groups[].rules[].expr. */
function schemaChanges(crd: string, version: string, before: Node | undefined, after: Node | undefined, path: string): CrdChange[] {
  if (!before || !after) return [];
  const changes: CrdChange[] = [];
  const field = path || '.';
  const add = (rule: CrdRule, detail: string, at: { field?: string; severity?: Severity; crdify?: string } = {}) =>
    changes.push({ crd, rule, version, field: at.field ?? field, severity: at.severity ?? RULES[rule].severity, crdify: at.crdify ?? RULES[rule].crdify, detail });

  // Stored objects and clients still send the old type; validation now rejects them (a widening does not).
  const [typeBefore, typeAfter] = [effectiveType(before), effectiveType(after)];
  if (typeBefore && typeAfter && typeBefore !== typeAfter) {
    add('field-type-changed', `type ${typeBefore} → ${typeAfter}${widens(typeBefore, typeAfter) ? ' (widened: every old value is still valid)' : ''}`, { severity: widens(typeBefore, typeAfter) ? 'info' : 'error' });
  }
  // Values allowed before are rejected now; enums compare as the sets they allow.
  const [enumBefore, enumAfter] = [effectiveEnum(before), effectiveEnum(after)];
  if (enumAfter && !enumBefore) add('enum-narrowed', `now restricted to ${[...enumAfter].map((v) => JSON.parse(v)).join(', ')}`);
  else if (enumAfter && enumBefore) {
    const dropped = [...enumBefore].filter((v) => !enumAfter.has(v));
    if (dropped.length) add('enum-narrowed', `no longer allows ${dropped.map((v) => JSON.parse(v)).join(', ')}`);
  }
  // Existing objects without the field fail validation on their next update, unless it is defaulted.
  const required = new Set(before.required ?? []);
  for (const name of after.required ?? []) {
    if (required.has(name)) continue;
    const defaulted = after.properties?.[name]?.default !== undefined;
    add('field-newly-required', `${path}.${name} is now required${defaulted ? ' (it has a default: objects without it get the default)' : ''}`, { field: `${path}.${name}`, severity: defaulted ? 'info' : 'error' });
  }
  // A list that was replaced whole is now merged by key (or deduplicated): duplicates are rejected.
  const [listBefore, listAfter] = [before['x-kubernetes-list-type'] ?? 'atomic', after['x-kubernetes-list-type'] ?? 'atomic'];
  const [keysBefore, keysAfter] = [json(before['x-kubernetes-list-map-keys']), json(after['x-kubernetes-list-map-keys'])];
  if (LIST_STRICTNESS[listAfter]! > LIST_STRICTNESS[listBefore]! || (listAfter === 'map' && listBefore === 'map' && keysBefore !== keysAfter)) {
    add('list-type-tightened', `list type ${listBefore} → ${listAfter}${listAfter === 'map' ? ` (keys ${(after['x-kubernetes-list-map-keys'] ?? []).join(', ')})` : ''}: items with the same key are now rejected`);
  }
  // Unknown fields that were kept are now pruned: their data is silently dropped on the next write.
  if (before['x-kubernetes-preserve-unknown-fields'] && !after['x-kubernetes-preserve-unknown-fields']) {
    add('pruning-widened', 'x-kubernetes-preserve-unknown-fields was removed: fields the schema does not name are now pruned');
  }
  if (before.additionalProperties && !after.additionalProperties && !after['x-kubernetes-preserve-unknown-fields']) {
    add('pruning-widened', 'additionalProperties was removed: keys of this map are now pruned');
  }
  // Values valid before may fail the new validation on their next write.
  if (after.pattern && after.pattern !== before.pattern) add('validation-tightened', `pattern ${before.pattern ? `${before.pattern} → ` : ''}${after.pattern}`, { crdify: 'pattern' });
  for (const bound of LOWER_BOUNDS) {
    if (after[bound] !== undefined && (before[bound] === undefined || after[bound] > before[bound])) add('validation-tightened', `${bound} ${before[bound] ?? 'none'} → ${after[bound]}`, { crdify: bound });
  }
  for (const bound of UPPER_BOUNDS) {
    if (after[bound] !== undefined && (before[bound] === undefined || after[bound] < before[bound])) add('validation-tightened', `${bound} ${before[bound] ?? 'none'} → ${after[bound]}`, { crdify: bound });
  }
  if (before.nullable && !after.nullable) add('validation-tightened', 'nullable was removed: null values are now rejected', { crdify: 'nullable' });
  if (after.format && after.format !== before.format) add('validation-tightened', `format ${before.format ?? 'none'} → ${after.format}`, { crdify: 'format' });
  const oldRules = new Set(((before['x-kubernetes-validations'] ?? []) as Array<{ rule: string }>).map((r) => r.rule));
  for (const { rule } of (after['x-kubernetes-validations'] ?? []) as Array<{ rule: string }>) {
    if (oldRules.has(rule)) continue;
    // A transition rule judges every update against the object's previous state.
    if (/\boldSelf\b/.test(rule)) add('transition-rule-added', `new CEL transition rule: ${rule}`);
    else add('validation-tightened', `new CEL rule: ${rule}`);
  }
  if (json(before.default) !== json(after.default) && (before.default !== undefined || after.default !== undefined)) {
    add('default-changed', `default ${json(before.default)} → ${json(after.default)}`);
  }
  const unknown = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !KNOWN.has(k) && json(before[k]) !== json(after[k]));
  for (const key of ['allOf', 'anyOf', 'oneOf']) if (withoutEnums(before[key]) !== withoutEnums(after[key])) unknown.push(key);
  if (unknown.length) add('unknown-change', `${unknown.join(', ')} changed (no rule judges this: upgrade-check asks the API server)`);

  const afterProperties = after.properties ?? {};
  for (const [name, schema] of Object.entries(before.properties ?? {})) {
    const next = afterProperties[name];
    // Pruning silently drops the field's data from stored objects.
    if (!next && !after['x-kubernetes-preserve-unknown-fields']) {
      add('field-removed', `${path}.${name} was removed`, { field: `${path}.${name}` });
      continue;
    }
    changes.push(...schemaChanges(crd, version, schema as Node, next as Node, `${path}.${name}`));
  }
  changes.push(...schemaChanges(crd, version, before.items as Node, after.items as Node, `${path}[]`));
  if (typeof before.additionalProperties === 'object' && typeof after.additionalProperties === 'object') {
    changes.push(...schemaChanges(crd, version, before.additionalProperties as Node, after.additionalProperties as Node, `${path}{}`));
  }
  return changes;
}

/** "version v1, field .spec.x", or '' for a change to the whole CRD. */
export function changeLocation(change: CrdChange): string {
  return [change.version && `version ${change.version}`, change.field && `field ${change.field}`].filter(Boolean).join(', ');
}

export function formatBreakingChange(change: CrdChange): string {
  const where = changeLocation(change);
  return `${change.crd}${where ? ` (${where})` : ''}: ${change.rule}: ${change.detail}`;
}

/** One change as a Markdown list item (plan's and compare-bundles' --format markdown). */
export function changeMarkdown(change: CrdChange): string {
  const where = changeLocation(change);
  return `**${change.rule}** ${code(change.crd)}${where ? ` (${md(where)})` : ''}: ${md(change.detail)}`;
}

export const breakingChangeFix =
  'read the chart’s upgrade notes and migrate stored objects first (nx run <cluster>:upgrade-check shows which objects the API server would reject); to apply anyway, rerun with --allow-breaking (or BOOTSTRAP_ALLOW_BREAKING=1)';
