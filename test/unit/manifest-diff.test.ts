// Two renders of a chart compared object by object.
import { describe, expect, it } from 'vitest';
import { describeManifestDiff, diffManifests, manifestChanges } from '../../tasks/lib/gitops/manifest-diff.ts';

const cm = (name: string, data: Record<string, string>, namespace = 'a') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data });
const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'certificates.cert-manager.io' }, spec: {} };

describe('diffManifests', () => {
  it('names added, removed and changed objects by kind, namespace and name, cluster-scoped ones without a namespace', () => {
    const d = diffManifests([cm('kept', { a: '1' }), cm('gone', {}), cm('edited', { a: '1' })], [cm('kept', { a: '1' }), cm('edited', { a: '2' }), crd]);
    expect(d).toEqual({ added: ['CustomResourceDefinition certificates.cert-manager.io'], removed: ['ConfigMap a/gone'], changed: ['ConfigMap a/edited'] });
    expect(manifestChanges(d)).toBe(3);
  });

  it('the same name in two namespaces is two objects; order does not matter', () => {
    expect(diffManifests([cm('x', {}, 'a'), cm('x', {}, 'b')], [cm('x', {}, 'b'), cm('x', {}, 'a')])).toEqual({ added: [], removed: [], changed: [] });
    expect(diffManifests([cm('x', {}, 'a')], [cm('x', {}, 'b')])).toEqual({ added: ['ConfigMap b/x'], removed: ['ConfigMap a/x'], changed: [] });
  });

  it('says at most a few names per list', () => {
    const many = Array.from({ length: 6 }, (_, i) => cm(`m${i}`, {}));
    expect(describeManifestDiff(diffManifests([], many))).toBe('added: ConfigMap a/m0, ConfigMap a/m1, ConfigMap a/m2, ConfigMap a/m3 and 2 more');
    expect(describeManifestDiff(diffManifests(many, many))).toBe('the same objects');
  });
});
