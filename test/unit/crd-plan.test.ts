import { describe, expect, it } from 'vitest';
import { provablyUnchanged } from '../../tasks/lib/crds/crd-plan.ts';
import { HASH_ANNOTATION, STORED_HASH_ANNOTATION, stampSource, storedSpecHash, type Crd } from '../../tasks/lib/model/crd-bundle.ts';

const wanted: Crd = stampSource(
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'vmrules.operator.victoriametrics.com' },
    spec: { group: 'operator.victoriametrics.com', scope: 'Namespaced', names: { kind: 'VMRule', plural: 'vmrules' }, versions: [{ name: 'v1beta1', served: true, storage: true }] },
  },
  'victoria-metrics-operator-crds',
  '0.14.0',
);

/** The live CRD as the crds phase left it: the spec the server stored (a default filled in) and its hash. */
function live(spec: Record<string, unknown>, managers = ['cluster-bootstrap'], storedFor: Record<string, unknown> = spec) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: wanted.metadata.name,
      annotations: { ...wanted.metadata.annotations, [STORED_HASH_ANNOTATION]: storedSpecHash(storedFor) } as Record<string, string>,
      managedFields: managers.map((manager) => ({ manager, operation: 'Apply' })),
    },
    spec,
  };
}

const stored = { ...wanted.spec, conversion: { strategy: 'None' } };

describe('provablyUnchanged', () => {
  it('holds when the bundle hash matches and the spec is what the last apply stored, whoever else manages it', () => {
    expect(provablyUnchanged(live(stored), wanted)).toBe(true);
    expect(provablyUnchanged(live(stored, ['cluster-bootstrap', 'cluster-bootstrap-keep']), wanted)).toBe(true);
    // Flux applying the same chart CRDs after the bootstrap: same content, proven by hash, no dry-run.
    expect(provablyUnchanged(live(stored, ['cluster-bootstrap', 'kustomize-controller']), wanted)).toBe(true);
  });

  it('fails for a spec edited after the apply, even under this tool’s own field manager and with the right annotations', () => {
    const edited = { ...stored, versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] };
    expect(provablyUnchanged(live(edited, ['cluster-bootstrap'], stored), wanted)).toBe(false);
  });

  it('fails for another manager’s different spec, an older bundle hash, or no stored hash', () => {
    const edited = { ...stored, versions: [{ name: 'v1', served: false, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] };
    expect(provablyUnchanged(live(edited, ['cluster-bootstrap', 'kubectl-edit'], stored), wanted)).toBe(false);
    const older = live(stored);
    older.metadata.annotations[HASH_ANNOTATION] = '0'.repeat(64);
    expect(provablyUnchanged(older, wanted)).toBe(false);
    const unstamped = live(stored);
    delete (unstamped.metadata.annotations as Record<string, string>)[STORED_HASH_ANNOTATION];
    expect(provablyUnchanged(unstamped, wanted)).toBe(false);
  });
});
