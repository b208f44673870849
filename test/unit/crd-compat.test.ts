import { describe, expect, it } from 'vitest';
import type { Crd, JsonSchema } from '../../tasks/lib/model/crd-bundle.ts';
import { breakingChanges, crdChanges, formatBreakingChange, withSettings, type CrdChange } from '../../tasks/lib/crds/crd-compat.ts';

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
const severityLine = (c: CrdChange) => `${c.severity} ${formatBreakingChange(c)}`;
/** One served version v1 with the given spec schema, before and after. */
const pair = (before: JsonSchema, after: JsonSchema, extra: Partial<Crd['spec']['versions'][number]> = {}) => [
  crd([{ name: 'v1', storage: true, spec: before }]),
  { ...crd([{ name: 'v1', storage: true, spec: after }]), spec: { ...crd([{ name: 'v1', storage: true, spec: after }]).spec, versions: crd([{ name: 'v1', storage: true, spec: after }]).spec.versions.map((v) => ({ ...v, ...extra })) } },
] as const;
const all = (before: Crd, after: Crd) => crdChanges(before, after).map(severityLine);

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
      'widgets.example.io (version v1beta1): stored-version-removed: version v1beta1 is in status.storedVersions but removed (nx run <cluster>:migrate-storage rewrites the objects, then prunes it)',
    ]);
  });

  it('the storage version changed: info while the old one is still served, an error once it is not', () => {
    const before = crd([{ name: 'v1', storage: true }, { name: 'v2' }]);
    const after = crd([{ name: 'v1' }, { name: 'v2', storage: true }]);
    expect(rules(before, after)).toEqual([]);
    expect(crdChanges(before, after).map(severityLine)).toEqual(['info widgets.example.io (version v2): storage-version-changed: storage version v1 → v2 (v1 is still served)']);
    const dropped = crd([{ name: 'v1', served: false }, { name: 'v2', storage: true }]);
    expect(rules(before, dropped)).toContain('widgets.example.io (version v2): storage-version-changed: storage version v1 → v2');
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

  describe('noise the guard must not make (seen on real bumps)', () => {
    it('.status fields of a version with a status subresource are info, not errors', () => {
      const statusSchema = (props: Record<string, JsonSchema>, required: string[] = []) => ({ type: 'object', properties: { status: { type: 'object', required, properties: props } } });
      const withStatus = (s: JsonSchema) => ({ ...crd([{ name: 'v1', storage: true }]), spec: { ...crd([{ name: 'v1', storage: true }]).spec, versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: s } }] } });
      const before = withStatus(statusSchema({ conditions: { type: 'array' }, lastSync: { type: 'string' } }));
      const after = withStatus(statusSchema({ conditions: { type: 'array' }, phase: { type: 'string' } }, ['phase']));
      expect(breakingChanges(before, after)).toEqual([]);
      expect(crdChanges(before, after).map((c) => `${c.severity} ${c.rule} ${c.field}`)).toEqual(['info field-newly-required .status.phase', 'info field-removed .status.lastSync']);
    });

    it('an enum written as allOf: [{enum}] is compared as the set it allows', () => {
      const [before, after] = pair(
        { type: 'object', properties: { mode: { type: 'string', enum: ['a', 'b'] } } },
        { type: 'object', properties: { mode: { type: 'string', allOf: [{ enum: ['a', 'b', 'c'] }] } } },
      );
      expect(breakingChanges(before, after)).toEqual([]);
      const [, narrowed] = pair({ type: 'object' }, { type: 'object', properties: { mode: { type: 'string', enum: ['a', 'b'], allOf: [{ enum: ['b', 'c'] }] } } });
      expect(all(before, narrowed)).toContain('error widgets.example.io (version v1, field .spec.mode): enum-narrowed: no longer allows a');
    });

    it('integer → number widens; int-or-string → integer narrows', () => {
      const [before, after] = pair({ type: 'object', properties: { n: { type: 'integer' } } }, { type: 'object', properties: { n: { type: 'number' } } });
      expect(breakingChanges(before, after)).toEqual([]);
      expect(all(before, after)).toEqual(['info widgets.example.io (version v1, field .spec.n): field-type-changed: type integer → number (widened: every old value is still valid)']);
      const [port, narrowed] = pair({ type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true } } }, { type: 'object', properties: { port: { type: 'integer' } } });
      expect(rules(port, narrowed)).toEqual(['widgets.example.io (version v1, field .spec.port): field-type-changed: type int-or-string → integer']);
    });

    it('a newly required field that has a default is not breaking', () => {
      const [before, after] = pair({ type: 'object', properties: { a: { type: 'string' } } }, { type: 'object', required: ['a'], properties: { a: { type: 'string', default: 'x' } } });
      expect(breakingChanges(before, after)).toEqual([]);
    });
  });

  describe('tightenings a rule list used to miss', () => {
    const rules_ = { type: 'array', items: { type: 'object', properties: { alert: { type: 'string', default: '' }, record: { type: 'string', default: '' } } } };
    it('list type tightened: the VMRule keyed list of VictoriaMetrics operator CRDs 0.13.0', () => {
      const [before, after] = pair({ type: 'object', properties: { rules: rules_ } }, { type: 'object', properties: { rules: { ...rules_, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['record', 'alert'] } } });
      expect(rules(before, after)).toEqual(['widgets.example.io (version v1, field .spec.rules): list-type-tightened: list type atomic → map (keys record, alert): items with the same key are now rejected']);
    });

    it('pruning widened: preserve-unknown-fields or additionalProperties removed', () => {
      const [before, after] = pair({ type: 'object', properties: { cfg: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }, { type: 'object', properties: { cfg: { type: 'object' } } });
      expect(rules(before, after)).toEqual(['widgets.example.io (version v1, field .spec.cfg): pruning-widened: x-kubernetes-preserve-unknown-fields was removed: fields the schema does not name are now pruned']);
      const [map, none] = pair({ type: 'object', properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } } }, { type: 'object', properties: { labels: { type: 'object' } } });
      expect(rules(map, none)).toEqual(['widgets.example.io (version v1, field .spec.labels): pruning-widened: additionalProperties was removed: keys of this map are now pruned']);
    });

    it('validation tightened (warn): pattern, bounds, nullable, format, a CEL rule; a CEL transition rule is an error', () => {
      const [before, after] = pair(
        { type: 'object', properties: { name: { type: 'string', maxLength: 63, nullable: true }, replicas: { type: 'integer', minimum: 0 } } },
        {
          type: 'object',
          'x-kubernetes-validations': [{ rule: 'self.replicas <= 10' }, { rule: 'self.name == oldSelf.name' }],
          properties: { name: { type: 'string', maxLength: 40, pattern: '^[a-z]+$', format: 'hostname' }, replicas: { type: 'integer', minimum: 1, maxProperties: 3 } },
        },
      );
      expect(all(before, after)).toEqual([
        'warn widgets.example.io (version v1, field .spec): validation-tightened: new CEL rule: self.replicas <= 10',
        'error widgets.example.io (version v1, field .spec): transition-rule-added: new CEL transition rule: self.name == oldSelf.name',
        'warn widgets.example.io (version v1, field .spec.name): validation-tightened: pattern ^[a-z]+$',
        'warn widgets.example.io (version v1, field .spec.name): validation-tightened: maxLength 63 → 40',
        'warn widgets.example.io (version v1, field .spec.name): validation-tightened: nullable was removed: null values are now rejected',
        'warn widgets.example.io (version v1, field .spec.name): validation-tightened: format none → hostname',
        'warn widgets.example.io (version v1, field .spec.replicas): validation-tightened: minimum 0 → 1',
        'warn widgets.example.io (version v1, field .spec.replicas): validation-tightened: maxProperties none → 3',
      ]);
      expect(crdChanges(before, after).find((c) => c.detail.startsWith('pattern'))!.crdify).toBe('pattern');
    });

    it('default changed (info), a subresource removed (warn), a change no rule understands (info unless failOnUnknown)', () => {
      const [before, after] = pair(
        { type: 'object', properties: { mode: { type: 'string', default: 'a' }, raw: { type: 'object', 'x-kubernetes-map-type': 'granular' } } },
        { type: 'object', properties: { mode: { type: 'string', default: 'b' }, raw: { type: 'object', 'x-kubernetes-map-type': 'atomic' } } },
      );
      expect(all(before, after)).toEqual([
        'info widgets.example.io (version v1, field .spec.mode): default-changed: default "a" → "b"',
        'info widgets.example.io (version v1, field .spec.raw): unknown-change: x-kubernetes-map-type changed (no rule judges this: upgrade-check asks the API server)',
      ]);
      expect(withSettings(crdChanges(before, after), { failOnUnknown: true }).filter((c) => c.severity === 'error').map((c) => c.rule)).toEqual(['unknown-change']);
      const scaled = { ...crd([{ name: 'v1', storage: true }]), spec: { ...crd([{ name: 'v1', storage: true }]).spec, versions: [{ ...crd([{ name: 'v1', storage: true }]).spec.versions[0]!, subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } }] } };
      const unscaled = { ...scaled, spec: { ...scaled.spec, versions: [{ ...scaled.spec.versions[0]!, subresources: { status: {} } }] } };
      expect(all(scaled, unscaled)).toEqual(['warn widgets.example.io (version v1): subresource-removed: the scale subresource was removed']);
    });

    it('between bundles, any removed version may still be stored; severities can be overridden per rule', () => {
      const before = crd([{ name: 'v1alpha1', served: false }, { name: 'v1', storage: true }]);
      const after = crd([{ name: 'v1', storage: true }]);
      expect(crdChanges(before, after)).toEqual([]);
      expect(crdChanges(before, after, { bundles: true }).map(severityLine)).toEqual([
        'error widgets.example.io (version v1alpha1): version-removed: version v1alpha1 is removed: it may still be in status.storedVersions',
      ]);
      expect(breakingChanges(before, after, { severities: { 'version-removed': 'warn' } }, { bundles: true })).toEqual([]);
    });
  });
});
