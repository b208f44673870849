import { describe, expect, it } from 'vitest';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { asNewObject, crdFor } from '../../tasks/lib/crds/object-check.ts';

describe('object check inputs', () => {
  it('sends a live object as a create would: no server-set metadata, no status', () => {
    const live = {
      apiVersion: 'operator.victoriametrics.com/v1beta1',
      kind: 'VMRule',
      metadata: { name: 'r', namespace: 'm', uid: 'u', resourceVersion: '7', generation: 2, creationTimestamp: new Date(0), managedFields: [{ manager: 'x' }], labels: { a: 'b' } },
      spec: { groups: [] },
      status: { syncStatus: 'ok' },
    };
    expect(asNewObject(live)).toEqual({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'r', namespace: 'm', labels: { a: 'b' } }, spec: { groups: [] } });
  });

  it('matches objects to CRDs by group and kind, whatever the version', () => {
    const crd = { metadata: { name: 'vmrules.operator.victoriametrics.com' }, spec: { group: 'operator.victoriametrics.com', names: { kind: 'VMRule' }, versions: [] } } as unknown as Crd;
    expect(crdFor({ apiVersion: 'operator.victoriametrics.com/v1', kind: 'VMRule' }, [crd])).toBe(crd);
    expect(crdFor({ apiVersion: 'monitoring.coreos.com/v1', kind: 'VMRule' }, [crd])).toBeUndefined();
    expect(crdFor({ apiVersion: 'v1', kind: 'ConfigMap' }, [crd])).toBeUndefined();
  });
});
