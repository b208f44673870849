import { describe, expect, it } from 'vitest';
import type { Crd, JsonSchema } from '../../tasks/lib/crd-bundle.ts';
import { breakingChanges, formatBreakingChange } from '../../tasks/lib/crd-compat.ts';

const schema = (spec: JsonSchema): JsonSchema => ({ type: 'object', properties: { spec } });

function crd(versions: Array<{ name: string; served?: boolean; storage?: boolean; spec?: JsonSchema }>, extra: Partial<Crd['spec']> = {}): Crd {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.io' },
    spec: {
      group: 'example.io',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: versions.map((v) => ({
        name: v.name,
        served: v.served ?? true,
        storage: v.storage ?? false,
        schema: { openAPIV3Schema: schema(v.spec ?? { type: 'object' }) },
      })),
      ...extra,
    },
  };
}

const rules = (before: Crd, after: Crd) => breakingChanges(before, after).map(formatBreakingChange);

describe('breaking CRD changes', () => {
  it('finds nothing between identical CRDs, or when a version or field is added', () => {
    const before = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { a: { type: 'string' } } } }]);
    const after = crd([
      { name: 'v1', storage: true, spec: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } } },
      { name: 'v2' },
    ]);
    expect(rules(before, before)).toEqual([]);
    expect(rules(before, after)).toEqual([]);
  });

  it('a served version removed', () => {
    const before = crd([{ name: 'v1alpha1' }, { name: 'v1', storage: true }]);
    expect(rules(before, crd([{ name: 'v1', storage: true }]))).toEqual([
      'widgets.example.io (version v1alpha1): served-version-removed: version v1alpha1 is no longer served',
    ]);
    expect(rules(before, crd([{ name: 'v1alpha1', served: false }, { name: 'v1', storage: true }]))).toHaveLength(1);
  });

  it('a version listed in status.storedVersions removed', () => {
    const before = { ...crd([{ name: 'v1', storage: true }]), status: { storedVersions: ['v1beta1', 'v1'] } };
    expect(rules(before, crd([{ name: 'v1', storage: true }]))).toEqual([
      'widgets.example.io (version v1beta1): stored-version-removed: version v1beta1 is in status.storedVersions but removed',
    ]);
  });

  it('the storage version changed', () => {
    const before = crd([{ name: 'v1', storage: true }, { name: 'v2' }]);
    const after = crd([{ name: 'v1' }, { name: 'v2', storage: true }]);
    expect(rules(before, after)).toEqual(['widgets.example.io (version v2): storage-version-changed: storage version v1 → v2']);
  });

  it('the scope changed', () => {
    const before = crd([{ name: 'v1', storage: true }]);
    expect(rules(before, crd([{ name: 'v1', storage: true }], { scope: 'Cluster' }))).toEqual([
      'widgets.example.io: scope-changed: scope Namespaced → Cluster',
    ]);
  });

  it('a field removed from a served version, unless unknown fields are preserved there', () => {
    const before = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, interval: { type: 'string' } } } } } } }]);
    const after = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } } } } }]);
    expect(rules(before, after)).toEqual([
      'widgets.example.io (version v1, field .spec.groups[].interval): field-removed: .spec.groups[].interval was removed',
    ]);
    const preserving = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { groups: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { name: { type: 'string' } } } } } } }]);
    expect(rules(before, preserving)).toEqual([]);
  });

  it('a field newly required', () => {
    const before = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { a: { type: 'string' } } } }]);
    const after = crd([{ name: 'v1', storage: true, spec: { type: 'object', required: ['a'], properties: { a: { type: 'string' } } } }]);
    expect(rules(before, after)).toEqual(['widgets.example.io (version v1, field .spec.a): field-newly-required: .spec.a is now required']);
  });

  it("a field's type changed", () => {
    const before = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { replicas: { type: 'string' } } } }]);
    const after = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { replicas: { type: 'integer' } } } }]);
    expect(rules(before, after)).toEqual(['widgets.example.io (version v1, field .spec.replicas): field-type-changed: type string → integer']);
  });

  it('an enum narrowed, or newly imposed', () => {
    const before = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { mode: { type: 'string', enum: ['a', 'b', 'c'] }, tier: { type: 'string' } } } }]);
    const after = crd([{ name: 'v1', storage: true, spec: { type: 'object', properties: { mode: { type: 'string', enum: ['a', 'c', 'd'] }, tier: { type: 'string', enum: ['gold'] } } } }]);
    expect(rules(before, after)).toEqual([
      'widgets.example.io (version v1, field .spec.mode): enum-narrowed: no longer allows b',
      'widgets.example.io (version v1, field .spec.tier): enum-narrowed: now restricted to gold',
    ]);
  });

  it('only compares versions served on both sides', () => {
    const before = crd([{ name: 'v1', served: false, storage: true, spec: { type: 'object', properties: { a: { type: 'string' } } } }]);
    const after = crd([{ name: 'v1', served: false, storage: true, spec: { type: 'object' } }]);
    expect(rules(before, after)).toEqual([]);
  });
});
