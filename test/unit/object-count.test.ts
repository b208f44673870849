import { describe, expect, it } from 'vitest';
import { countDrops, formatDrop, kindRefOf, type KindRef } from '../../tasks/lib/core/object-count.ts';

const kinds: KindRef[] = [
  { crd: 'clustersecretstores.external-secrets.io', group: 'external-secrets.io', version: 'v1', plural: 'clustersecretstores', kind: 'ClusterSecretStore' },
  { crd: 'externalsecrets.external-secrets.io', group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', kind: 'ExternalSecret' },
  { crd: 'certificates.cert-manager.io', group: 'cert-manager.io', version: 'v1', plural: 'certificates', kind: 'Certificate' },
];

describe('countDrops', () => {
  it('names each kind whose objects dropped, or whose CRD vanished, with both counts', () => {
    const before = new Map([
      ['clustersecretstores.external-secrets.io', 2],
      ['externalsecrets.external-secrets.io', 3],
      ['certificates.cert-manager.io', 0],
    ]);
    const after = new Map<string, number | undefined>([
      ['clustersecretstores.external-secrets.io', undefined],
      ['externalsecrets.external-secrets.io', 1],
      ['certificates.cert-manager.io', 0],
    ]);
    expect(countDrops(kinds, before, after).map(formatDrop)).toEqual([
      'ClusterSecretStore (clustersecretstores.external-secrets.io): the CRD was deleted; 2 objects before, none served after',
      'ExternalSecret (externalsecrets.external-secrets.io): 3 objects before, 1 after',
    ]);
  });

  it('accepts new objects and kinds that did not exist before', () => {
    const before = new Map<string, number | undefined>([
      ['clustersecretstores.external-secrets.io', 1],
      ['certificates.cert-manager.io', undefined],
    ]);
    const after = new Map([
      ['clustersecretstores.external-secrets.io', 4],
      ['certificates.cert-manager.io', 2],
    ]);
    expect(countDrops(kinds, before, after)).toEqual([]);
  });
});

describe('kindRefOf', () => {
  it('lists a kind through a served version, not a disabled one', () => {
    const crd = {
      metadata: { name: 'secretstores.external-secrets.io' },
      spec: {
        group: 'external-secrets.io',
        names: { plural: 'secretstores', kind: 'SecretStore' },
        versions: [
          { name: 'v1beta1', served: false },
          { name: 'v1', served: true },
        ],
      },
    };
    expect(kindRefOf(crd)).toEqual({ crd: 'secretstores.external-secrets.io', group: 'external-secrets.io', version: 'v1', plural: 'secretstores', kind: 'SecretStore' });
  });
});
