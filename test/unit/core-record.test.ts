import { describe, expect, it } from 'vitest';
import { provenByRecord, recordData, recordFromData, recordOf } from '../../tasks/lib/core/core-record.ts';
import type { DeployedRelease } from '../../tasks/lib/tools/helm.ts';

const releases = [
  { namespace: 'cert-manager', name: 'cert-manager' },
  { namespace: 'spegel', name: 'spegel' },
];
const deployed: DeployedRelease[] = [
  { namespace: 'cert-manager', name: 'cert-manager', status: 'deployed', chart: 'cert-manager-v1.21.1', revision: '2' },
  { namespace: 'spegel', name: 'spegel', status: 'deployed', chart: 'spegel-0.7.4', revision: '1' },
];
const objects = [{ namespace: 'cert-manager', name: 'cert-manager', objects: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'cert-manager', name: 'cert-manager' }] }];
const record = recordOf('inputs-a', releases, deployed, objects)!;

describe('core record', () => {
  it('proves a rerun up to date only with the same inputs and every release at its recorded revision', () => {
    expect(provenByRecord(record, 'inputs-a', deployed)).toEqual({ proven: true, reason: 'inputs unchanged and every release at its recorded helm revision' });
    expect(record.objects).toEqual(objects);
  });

  it('sends every other case to the full plan, saying why', () => {
    const changed = (patch: Partial<DeployedRelease>) => deployed.map((d) => (d.name === 'spegel' ? { ...d, ...patch } : d));
    expect(provenByRecord(undefined, 'inputs-a', deployed)).toMatchObject({ proven: false, reason: 'no record of a previous sync' });
    expect(provenByRecord(record, 'inputs-b', deployed)).toMatchObject({ proven: false, reason: /helmfile.d, values.yaml or tool versions changed/ });
    expect(provenByRecord(record, 'inputs-a', changed({ revision: '2' }))).toMatchObject({ proven: false, reason: 'spegel/spegel changed since the last sync (revision 1 → 2)' });
    expect(provenByRecord(record, 'inputs-a', changed({ status: 'pending-upgrade' }))).toMatchObject({ proven: false, reason: 'spegel/spegel is pending-upgrade' });
    expect(provenByRecord(record, 'inputs-a', deployed.slice(0, 1))).toMatchObject({ proven: false, reason: 'spegel/spegel is no longer installed' });
    expect(provenByRecord({ inputsSha256: 'inputs-a', releases: [], objects: [] }, 'inputs-a', deployed)).toMatchObject({ proven: false });
  });

  it('is stored and read back whole; a record of an older version or edited by hand proves nothing', () => {
    const data = recordData(record);
    expect(JSON.parse(data.objects!)).toEqual({ 'cert-manager/cert-manager': ['apps/v1 Deployment cert-manager/cert-manager'] });
    expect(recordFromData(data)).toEqual(record);
    const { objects: _, ...older } = data;
    expect(recordFromData({ ...older, customResources: '[]' })).toBeUndefined();
    expect(recordFromData({ ...data, objects: '{"cert-manager/cert-manager": ["apps/v1 Deployment"]}' })).toBeUndefined();
    expect(recordFromData({ ...data, objects: 'not json' })).toBeUndefined();
  });

  it('records nothing while a release is missing or not deployed: a partial record would vouch for it', () => {
    expect(recordOf('inputs-a', releases, deployed.slice(0, 1), [])).toBeUndefined();
    expect(recordOf('inputs-a', releases, [deployed[0]!, { ...deployed[1]!, status: 'failed' }], [])).toBeUndefined();
    expect(record.releases.map((r) => r.revision)).toEqual(['2', '1']);
  });
});
