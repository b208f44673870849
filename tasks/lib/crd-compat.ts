// Breaking-change rules for CRDs, applied between the live CRD and the one about to be applied,
// or between two bundles. Each rule is data with a comment saying why it breaks someone.
import type { Crd, CrdVersion, JsonSchema } from './crd-bundle.ts';
import { storageVersion } from './crd-bundle.ts';

export type BreakingRule =
  | 'served-version-removed'
  | 'stored-version-removed'
  | 'storage-version-changed'
  | 'scope-changed'
  | 'field-removed'
  | 'field-newly-required'
  | 'field-type-changed'
  | 'enum-narrowed';

export interface BreakingChange {
  crd: string;
  rule: BreakingRule;
  version?: string;
  field?: string;
  detail: string;
}

const served = (crd: Crd) => crd.spec.versions.filter((v) => v.served);

export function breakingChanges(before: Crd, after: Crd): BreakingChange[] {
  const crd = after.metadata.name;
  const changes: BreakingChange[] = [];
  const afterVersions = new Map(after.spec.versions.map((v) => [v.name, v]));

  // Clients and stored objects of a removed served version stop working at once.
  for (const version of served(before)) {
    if (!afterVersions.get(version.name)?.served) {
      changes.push({ crd, rule: 'served-version-removed', version: version.name, detail: `version ${version.name} is no longer served` });
    }
  }
  // The API server refuses a CRD that drops a version still listed in status.storedVersions:
  // objects stored in it would become unreadable. Migrate them first.
  for (const version of before.status?.storedVersions ?? []) {
    if (!afterVersions.has(version)) {
      changes.push({ crd, rule: 'stored-version-removed', version, detail: `version ${version} is in status.storedVersions but removed` });
    }
  }
  // Objects stay stored in the old version until rewritten; a later removal of it breaks them.
  const [oldStorage, newStorage] = [storageVersion(before), storageVersion(after)];
  if (oldStorage && newStorage && oldStorage !== newStorage) {
    changes.push({ crd, rule: 'storage-version-changed', version: newStorage, detail: `storage version ${oldStorage} → ${newStorage}` });
  }
  // The API server forbids changing scope; every existing object would have the wrong shape.
  if (before.spec.scope !== after.spec.scope) {
    changes.push({ crd, rule: 'scope-changed', detail: `scope ${before.spec.scope} → ${after.spec.scope}` });
  }
  for (const version of served(after)) {
    const old = before.spec.versions.find((v) => v.name === version.name && v.served);
    if (old) changes.push(...schemaChanges(crd, version.name, schemaOf(old), schemaOf(version), ''));
  }
  return changes;
}

function schemaOf(version: CrdVersion): JsonSchema | undefined {
  return version.schema?.openAPIV3Schema;
}

/** Walks two schemas side by side; `path` is a field path such as .spec.groups[].rules[].expr. */
function schemaChanges(crd: string, version: string, before: JsonSchema | undefined, after: JsonSchema | undefined, path: string): BreakingChange[] {
  if (!before || !after) return [];
  const changes: BreakingChange[] = [];
  const field = path || '.';
  // Stored objects and clients still send the old type; validation now rejects them.
  if (before.type && after.type && before.type !== after.type) {
    changes.push({ crd, rule: 'field-type-changed', version, field, detail: `type ${before.type} → ${after.type}` });
  }
  // Values allowed before are rejected now.
  if (before.enum || after.enum) {
    const allowedAfter = new Set((after.enum ?? []).map((v) => JSON.stringify(v)));
    const dropped = after.enum ? (before.enum ?? []).filter((v) => !allowedAfter.has(JSON.stringify(v))) : [];
    if (after.enum && !before.enum) {
      changes.push({ crd, rule: 'enum-narrowed', version, field, detail: `now restricted to ${after.enum.map(String).join(', ')}` });
    } else if (dropped.length > 0) {
      changes.push({ crd, rule: 'enum-narrowed', version, field, detail: `no longer allows ${dropped.map(String).join(', ')}` });
    }
  }
  // Existing objects without the field fail validation on their next update.
  const required = new Set(before.required ?? []);
  for (const name of after.required ?? []) {
    if (!required.has(name)) changes.push({ crd, rule: 'field-newly-required', version, field: `${path}.${name}`, detail: `${path}.${name} is now required` });
  }
  const afterProperties = after.properties ?? {};
  for (const [name, schema] of Object.entries(before.properties ?? {})) {
    const next = afterProperties[name];
    // Pruning silently drops the field's data from stored objects.
    if (!next && !after['x-kubernetes-preserve-unknown-fields']) {
      changes.push({ crd, rule: 'field-removed', version, field: `${path}.${name}`, detail: `${path}.${name} was removed` });
      continue;
    }
    changes.push(...schemaChanges(crd, version, schema, next, `${path}.${name}`));
  }
  changes.push(...schemaChanges(crd, version, before.items, after.items, `${path}[]`));
  if (typeof before.additionalProperties === 'object' && typeof after.additionalProperties === 'object') {
    changes.push(...schemaChanges(crd, version, before.additionalProperties, after.additionalProperties, `${path}{}`));
  }
  return changes;
}

/** "version v1, field .spec.x", or '' for a change to the whole CRD. */
export function changeLocation(change: BreakingChange): string {
  return [change.version && `version ${change.version}`, change.field && `field ${change.field}`].filter(Boolean).join(', ');
}

export function formatBreakingChange(change: BreakingChange): string {
  const where = changeLocation(change);
  return `${change.crd}${where ? ` (${where})` : ''}: ${change.rule}: ${change.detail}`;
}

export const breakingChangeFix =
  'read the chart’s upgrade notes and migrate stored objects first; to apply anyway, rerun with --allow-breaking (or BOOTSTRAP_ALLOW_BREAKING=1)';
