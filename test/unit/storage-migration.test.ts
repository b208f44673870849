import type { LiveCrd } from '../../tasks/lib/model/crd-bundle.ts';
import { describe, expect, it } from 'vitest';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { migrationsNeeded } from '../../tasks/lib/crds/storage-migration.ts';

const bundleCrd = (versions: string[]) => ({ metadata: { name: 'vmrules.operator.victoriametrics.com' }, spec: { versions: versions.map((name) => ({ name, served: true, storage: name === versions.at(-1) })) } }) as unknown as Crd;
const liveCrd = (versions: string[], storage: string, storedVersions: string[]) =>
  new Map([['vmrules.operator.victoriametrics.com', { spec: { versions: versions.map((name) => ({ name, storage: name === storage })) }, status: { storedVersions } } as unknown as LiveCrd]]);

describe('migrationsNeeded', () => {
  it('names a CRD whose stored versions the bundle drops, and the version objects are rewritten in', () => {
    expect(migrationsNeeded([bundleCrd(['v1'])], liveCrd(['v1beta1', 'v1'], 'v1', ['v1beta1', 'v1']))).toEqual([
      { crd: 'vmrules.operator.victoriametrics.com', dropped: ['v1beta1'], storageVersion: 'v1', storedVersions: ['v1beta1', 'v1'] },
    ]);
  });

  it('needs nothing when every stored version stays, or the CRD is new', () => {
    expect(migrationsNeeded([bundleCrd(['v1beta1', 'v1'])], liveCrd(['v1beta1', 'v1'], 'v1', ['v1beta1', 'v1']))).toEqual([]);
    expect(migrationsNeeded([bundleCrd(['v1'])], new Map())).toEqual([]);
  });

  it('refuses when the live storage version is itself dropped: an intermediate release is needed', () => {
    expect(() => migrationsNeeded([bundleCrd(['v1'])], liveCrd(['v1beta1'], 'v1beta1', ['v1beta1']))).toThrow(BootstrapError);
  });
});
