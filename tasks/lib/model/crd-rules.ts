// The catalogue of CRD change rules: each rule's name, its default severity (error blocks the CRD
// phase, warn is printed, info is listed) and the kubernetes-sigs/crdify rule of the same meaning.
// cluster.yaml validates its crdRules against these names; crd-compat.ts implements the rules.
export type Severity = 'error' | 'warn' | 'info';

export const RULES = {
  'served-version-removed': { severity: 'error', crdify: undefined },
  'stored-version-removed': { severity: 'error', crdify: 'storedVersionRemoval' },
  'version-removed': { severity: 'error', crdify: 'storedVersionRemoval' },
  'storage-version-changed': { severity: 'error', crdify: undefined },
  'scope-changed': { severity: 'error', crdify: 'scope' },
  'field-removed': { severity: 'error', crdify: 'existingFieldRemoval' },
  'field-newly-required': { severity: 'error', crdify: 'required' },
  'field-type-changed': { severity: 'error', crdify: 'type' },
  'enum-narrowed': { severity: 'error', crdify: 'enum' },
  'list-type-tightened': { severity: 'error', crdify: undefined },
  'pruning-widened': { severity: 'error', crdify: undefined },
  'validation-tightened': { severity: 'warn', crdify: undefined },
  'transition-rule-added': { severity: 'error', crdify: undefined },
  'default-changed': { severity: 'info', crdify: 'default' },
  'subresource-removed': { severity: 'warn', crdify: undefined },
  'unknown-change': { severity: 'info', crdify: undefined },
} as const satisfies Record<string, { severity: Severity; crdify: string | undefined }>;

export type CrdRule = keyof typeof RULES;
/** Kept for callers that speak of "breaking" changes: every change a rule reports. */
export type BreakingRule = CrdRule;
