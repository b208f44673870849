import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LiveCrd } from '../../tasks/lib/model/crd-bundle.ts';
import { formatAdoption, planAdoption } from '../../tasks/lib/core/adoption.ts';
import { leavingCrds } from '../../tasks/lib/core/crd-keep.ts';
import type { HelmfileRelease } from '../../tasks/lib/tools/helmfile.ts';
import { planRelease } from '../../tasks/lib/core/release-plan.ts';

const release: HelmfileRelease = {
  name: 'external-secrets',
  namespace: 'external-secrets',
  enabled: true,
  chart: 'oci://127.0.0.1:15000/ghcr.io/external-secrets/charts/external-secrets',
  version: '2.9.0',
};
const crd = (name: string): KubernetesObject => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } });
const deployment: KubernetesObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'external-secrets', namespace: 'external-secrets' } };

function live(name: string, managers: string[], annotations: Record<string, string> = {}): [string, LiveCrd] {
  return [
    name,
    { metadata: { name, annotations, managedFields: managers.map((manager) => ({ manager, operation: 'Apply' })) } } as LiveCrd,
  ];
}

// installed the old way: 2.8.0 with installCRDs=true; now 2.9.0 with installCRDs=false.
const deployed = { name: 'external-secrets', namespace: 'external-secrets', status: 'deployed', chart: 'external-secrets-2.8.0', revision: '1' };
const plan = [planRelease(release, deployed, [deployment], [deployment, crd('secretstores.external-secrets.io'), crd('legacytokens.generators.external-secrets.io')])];
const liveCrds = new Map([
  live('secretstores.external-secrets.io', ['helm']),
  live('legacytokens.generators.external-secrets.io', ['helm']),
  live('certificates.cert-manager.io', ['cluster-bootstrap'], { 'helm.sh/resource-policy': 'keep' }),
]);
const bundle = new Set(['secretstores.external-secrets.io', 'certificates.cert-manager.io']);

describe('leavingCrds', () => {
  it('finds the CRDs a sync would delete, whether the bundle has them and whether they are kept', () => {
    expect(leavingCrds(plan, liveCrds, bundle)).toEqual([
      { name: 'secretstores.external-secrets.io', release: 'external-secrets', namespace: 'external-secrets', inBundle: true, kept: false },
      { name: 'legacytokens.generators.external-secrets.io', release: 'external-secrets', namespace: 'external-secrets', inBundle: false, kept: false },
    ]);
  });
});

describe('planAdoption', () => {
  const adoption = planAdoption(plan, liveCrds, bundle);

  it('lists per release the CRDs owned, taken over, kept from deletion and in no bundle, and the manager change', () => {
    expect(adoption).toEqual([
      {
        release: 'external-secrets',
        namespace: 'external-secrets',
        owned: ['legacytokens.generators.external-secrets.io', 'secretstores.external-secrets.io'],
        takenOver: ['secretstores.external-secrets.io'],
        protected: ['legacytokens.generators.external-secrets.io', 'secretstores.external-secrets.io'],
        unbundled: ['legacytokens.generators.external-secrets.io'],
        managers: [{ crd: 'secretstores.external-secrets.io', from: ['helm'], to: 'cluster-bootstrap' }],
      },
    ]);
  });

  it('prints one block per release', () => {
    expect(formatAdoption(adoption)).toBe(
      [
        'ADOPT  release external-secrets/external-secrets owns 2 CRDs today',
        '    1 taken over by the crds phase (field managers helm → cluster-bootstrap)',
        '    2 would be deleted by the next core sync: kept instead (helm.sh/resource-policy: keep)',
        '    legacytokens.generators.external-secrets.io: in no bundle: kept and reported, never deleted; delete it by hand once nothing uses it',
      ].join('\n'),
    );
  });

  it('says nothing for releases that own no CRD (a cluster bootstrapped by this tool)', () => {
    expect(planAdoption([planRelease(release, deployed, [deployment], [deployment])], liveCrds, bundle)).toEqual([]);
  });
});
