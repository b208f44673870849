import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { chartLabel, planRelease, removedObjects } from '../../tasks/lib/core/release-plan.ts';
import type { HelmfileRelease } from '../../tasks/lib/tools/helmfile.ts';

const release: HelmfileRelease = {
  name: 'cert-manager',
  namespace: 'cert-manager',
  enabled: true,
  chart: 'oci://127.0.0.1:15000/quay.io/jetstack/charts/cert-manager',
  version: 'v1.21.1',
};
const deployment = (replicas: number): KubernetesObject & { spec: object } => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'cert-manager', namespace: 'cert-manager' },
  spec: { replicas },
});
const service: KubernetesObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'cert-manager' } };

describe('planRelease', () => {
  it('labels charts the way helm list does', () => {
    expect(chartLabel(release)).toBe('cert-manager-v1.21.1');
  });

  it('installs a missing release and upgrades a failed one', () => {
    expect(planRelease(release, undefined, [], []).action).toBe('install');
    expect(planRelease(release, { name: 'cert-manager', namespace: 'cert-manager', status: 'failed', chart: 'cert-manager-v1.21.1', revision: '1' }, [], [])).toMatchObject({
      action: 'upgrade',
      reason: 'status is failed',
    });
  });

  it('upgrades on a chart version change or a manifest difference', () => {
    const deployed = { name: 'cert-manager', namespace: 'cert-manager', status: 'deployed', chart: 'cert-manager-v1.20.0', revision: '1' };
    expect(planRelease(release, deployed, [], []).reason).toBe('cert-manager-v1.20.0 → cert-manager-v1.21.1');
    const current = { ...deployed, chart: 'cert-manager-v1.21.1' };
    expect(planRelease(release, current, [deployment(2)], [deployment(1)]).action).toBe('upgrade');
  });

  it('is up to date when chart and manifests match, whatever their order', () => {
    const current = { name: 'cert-manager', namespace: 'cert-manager', status: 'deployed', chart: 'cert-manager-v1.21.1', revision: '1' };
    expect(planRelease(release, current, [deployment(1), service], [service, deployment(1)])).toMatchObject({
      action: 'up to date',
      reason: 'cert-manager-v1.21.1 deployed',
    });
  });
});

describe('removedObjects', () => {
  const crd = (name: string): KubernetesObject => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } });

  it('lists what the deployed release has and the new render lacks: what Helm deletes on the sync', () => {
    const deployed = [deployment(1), service, crd('secretstores.external-secrets.io')];
    expect(removedObjects(deployed, [deployment(2)], 'cert-manager')).toEqual([service, crd('secretstores.external-secrets.io')]);
  });

  it('matches as Helm does: a version bump of the same kind is no removal, a missing namespace is the release one', () => {
    const v1beta1 = { ...deployment(1), apiVersion: 'apps/v1beta1' };
    const unnamespaced = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } };
    expect(removedObjects([v1beta1, service], [deployment(1), unnamespaced], 'cert-manager')).toEqual([]);
    expect(removedObjects([service], [unnamespaced], 'other')).toEqual([service]);
  });

  it('is part of the release plan', () => {
    const current = { name: 'cert-manager', namespace: 'cert-manager', status: 'deployed', chart: 'cert-manager-v1.20.0', revision: '1' };
    expect(planRelease(release, current, [deployment(1)], [deployment(1), service]).removed).toEqual([service]);
  });
});
