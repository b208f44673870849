import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { bundleYaml, contentHash, HASH_ANNOTATION, isKept, manifestEntry, selectCrds, servedApiVersions, stampSource, type Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { parseManifests } from '../../tasks/lib/runtime/manifests.ts';

function crd(name: string, kind = 'Thing'): Crd {
  const [plural, ...group] = name.split('.');
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: group.join('.'),
      scope: 'Namespaced',
      names: { kind, plural: plural! },
      versions: [
        { name: 'v1alpha1', served: false, storage: false },
        { name: 'v1', served: true, storage: true },
      ],
    },
  };
}

const deployment: KubernetesObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } };

describe('selectCrds', () => {
  it('keeps only CRDs, sorted by name, with their release', () => {
    const rendered = new Map<string, KubernetesObject[]>([
      ['b', [deployment, crd('zs.example.io'), crd('as.example.io')]],
      ['a', [crd('ms.other.io')]],
    ]);
    expect(selectCrds(rendered).map((s) => `${s.release}:${s.crd.metadata.name}`)).toEqual([
      'b:as.example.io',
      'a:ms.other.io',
      'b:zs.example.io',
    ]);
  });

  it('fails on a release that renders no CRD, naming it and the switch (cert-manager trap, E3)', () => {
    const rendered = new Map<string, KubernetesObject[]>([['cert-manager', [deployment]]]);
    expect(() => selectCrds(rendered)).toThrow(
      'release "cert-manager" in helmfile.d/00-crds.yaml.gotmpl: renders no CustomResourceDefinition',
    );
  });

  it('fails when two releases render the same CRD', () => {
    const rendered = new Map<string, KubernetesObject[]>([
      ['one', [crd('xs.example.io')]],
      ['two', [crd('xs.example.io')]],
    ]);
    expect(() => selectCrds(rendered)).toThrow('CRD xs.example.io: rendered by both "one" and "two"');
  });
});

describe('manifestEntry', () => {
  it('describes a CRD with served versions, storage version, size and hash', () => {
    const entry = manifestEntry(crd('prometheusrules.monitoring.coreos.com', 'PrometheusRule'), 'prometheus-operator-crds');
    expect(entry).toMatchObject({
      name: 'prometheusrules.monitoring.coreos.com',
      group: 'monitoring.coreos.com',
      kind: 'PrometheusRule',
      versions: ['v1'],
      storageVersion: 'v1',
      release: 'prometheus-operator-crds',
    });
    expect(entry.bytes).toBe(JSON.stringify(crd('prometheusrules.monitoring.coreos.com', 'PrometheusRule')).length);
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('bundleYaml', () => {
  it('round-trips through the manifest parser in the same order', () => {
    const crds = [crd('as.example.io'), crd('bs.example.io')];
    expect(parseManifests(bundleYaml(crds), 'bundle')).toEqual(crds);
  });
});

describe('stampSource', () => {
  const stamped = stampSource(crd('externalsecrets.external-secrets.io', 'ExternalSecret'), 'external-secrets', '2.9.0');

  it('marks every bundle CRD helm.sh/resource-policy: keep, so no Helm upgrade can delete it', () => {
    expect(stamped.metadata.annotations).toMatchObject({
      'helm.sh/resource-policy': 'keep',
      'cluster-bootstrap.io/source': 'external-secrets@2.9.0',
    });
    expect(isKept(stamped)).toBe(true);
  });

  it('covers the keep policy with the content hash: a live CRD without it is not "unchanged"', () => {
    const { [HASH_ANNOTATION]: hash, ...rest } = stamped.metadata.annotations!;
    const { 'helm.sh/resource-policy': _keep, ...withoutKeep } = rest;
    const unhashed = (annotations: Record<string, string>): Crd => ({ ...stamped, metadata: { ...stamped.metadata, annotations } });
    expect(hash).toBe(contentHash(unhashed(rest)));
    expect(hash).not.toBe(contentHash(unhashed(withoutKeep)));
  });
});

describe('servedApiVersions', () => {
  it('gives helm each served version of each kind, as group/version and group/version/Kind, once', () => {
    const entries = [manifestEntry(crd('servicemonitors.monitoring.coreos.com', 'ServiceMonitor'), 'prometheus-operator-crds'), manifestEntry(crd('podmonitors.monitoring.coreos.com', 'PodMonitor'), 'prometheus-operator-crds')];
    expect(servedApiVersions(entries)).toEqual(['monitoring.coreos.com/v1', 'monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PodMonitor']);
  });
});
