import { describe, expect, it } from 'vitest';
import { provenByRecord, recordOf } from '../../tasks/lib/core/core-record.ts';
import type { DeployedRelease } from '../../tasks/lib/tools/helm.ts';
import { customResourceRefs } from '../../tasks/lib/core/release-presence.ts';

const releases = [
  { namespace: 'cert-manager', name: 'cert-manager' },
  { namespace: 'spegel', name: 'spegel' },
];
const deployed: DeployedRelease[] = [
  { namespace: 'cert-manager', name: 'cert-manager', status: 'deployed', chart: 'cert-manager-v1.21.1', revision: '2' },
  { namespace: 'spegel', name: 'spegel', status: 'deployed', chart: 'spegel-0.7.4', revision: '1' },
];
const record = recordOf('inputs-a', releases, deployed, ['fluxcd.controlplane.io/v1 FluxInstance flux-system/flux'])!;

describe('core record', () => {
  it('proves a rerun up to date only with the same inputs and every release at its recorded revision', () => {
    expect(provenByRecord(record, 'inputs-a', deployed)).toEqual({ proven: true, reason: 'inputs unchanged and every release at its recorded helm revision' });
  });

  it('sends every other case to the full plan, saying why', () => {
    const changed = (patch: Partial<DeployedRelease>) => deployed.map((d) => (d.name === 'spegel' ? { ...d, ...patch } : d));
    expect(provenByRecord(undefined, 'inputs-a', deployed)).toMatchObject({ proven: false, reason: 'no record of a previous sync' });
    expect(provenByRecord(record, 'inputs-b', deployed)).toMatchObject({ proven: false, reason: /helmfile.d, values.yaml or tool versions changed/ });
    expect(provenByRecord(record, 'inputs-a', changed({ revision: '2' }))).toMatchObject({ proven: false, reason: 'spegel/spegel changed since the last sync (revision 1 → 2)' });
    expect(provenByRecord(record, 'inputs-a', changed({ status: 'pending-upgrade' }))).toMatchObject({ proven: false, reason: 'spegel/spegel is pending-upgrade' });
    expect(provenByRecord(record, 'inputs-a', deployed.slice(0, 1))).toMatchObject({ proven: false, reason: 'spegel/spegel is no longer installed' });
    expect(provenByRecord({ inputsSha256: 'inputs-a', releases: [], customResources: [] }, 'inputs-a', deployed)).toMatchObject({ proven: false });
  });

  it('records nothing while a release is missing or not deployed: a partial record would vouch for it', () => {
    expect(recordOf('inputs-a', releases, deployed.slice(0, 1), [])).toBeUndefined();
    expect(recordOf('inputs-a', releases, [deployed[0]!, { ...deployed[1]!, status: 'failed' }], [])).toBeUndefined();
    expect(record.releases.map((r) => r.revision)).toEqual(['2', '1']);
  });
});

describe('custom resources of a release', () => {
  const bundle = [
    { name: 'fluxinstances.fluxcd.controlplane.io', group: 'fluxcd.controlplane.io', kind: 'FluxInstance', plural: 'fluxinstances', scope: 'Namespaced', versions: ['v1'], storageVersion: 'v1', bytes: 1, sha256: '', release: 'flux-operator' },
    { name: 'clusterissuers.cert-manager.io', group: 'cert-manager.io', kind: 'ClusterIssuer', plural: 'clusterissuers', scope: 'Cluster', versions: ['v1'], storageVersion: 'v1', bytes: 1, sha256: '', release: 'cert-manager' },
  ];
  it('names the objects of bundle kinds only, in the release namespace when the chart leaves it out', () => {
    const objects = [
      { apiVersion: 'fluxcd.controlplane.io/v1', kind: 'FluxInstance', metadata: { name: 'flux' } },
      { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'letsencrypt' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'flux-operator' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'other' } },
    ];
    expect(customResourceRefs(objects, 'flux-system', bundle)).toEqual(['fluxcd.controlplane.io/v1 FluxInstance flux-system/flux', 'cert-manager.io/v1 ClusterIssuer letsencrypt']);
  });
});
