// The hand-off compared in pure code: each core release paired with the tree's HelmRelease that
// manages the same Helm release, and what Flux's first reconcile changes, path by path.
import { describe, expect, it } from 'vitest';
import { chartKey, compareHandover, describeDifferences, describeManifest, handoverFindings, revisionOnly, unexpected, valueDifferences, withSeverities, type CoreRelease } from '../../tasks/lib/gitops/handover.ts';
import type { HelmReleaseSource } from '../../tasks/lib/gitops/helmrelease-crds.ts';

const certManager: CoreRelease = {
  name: 'cert-manager',
  namespace: 'cert-manager',
  chart: 'quay.io/jetstack/charts/cert-manager',
  version: 'v1.21.1',
  values: { crds: { enabled: false } },
  at: 'helmfile.d/01-core.yaml.gotmpl:48',
};

function twin(over: Partial<HelmReleaseSource> = {}): HelmReleaseSource {
  return {
    kustomization: 'cert-manager/cert-manager',
    name: 'cert-manager',
    namespace: 'cert-manager',
    file: 'kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml',
    releaseName: 'cert-manager',
    targetNamespace: 'cert-manager',
    storageNamespace: 'cert-manager',
    chart: { url: 'oci://quay.io/jetstack/charts/cert-manager', version: 'v1.21.1', file: 'kubernetes/apps/cert-manager/cert-manager/app/ocirepository.yaml' },
    installCrds: 'Create',
    upgradeCrds: 'Skip',
    values: { crds: { enabled: false } },
    missingValues: [],
    ...over,
  };
}

describe('valueDifferences', () => {
  it('names each leaf that differs as a dotted path; a list is one leaf', () => {
    expect(valueDifferences({ a: { b: 1, c: [1, 2] }, keep: 'x' }, { a: { b: 2, c: [1, 2, 3] }, keep: 'x', added: { deep: true } })).toEqual([
      { path: 'a.b', core: 1, tree: 2 },
      { path: 'a.c', core: [1, 2], tree: [1, 2, 3] },
      { path: 'added.deep', core: undefined, tree: true },
    ]);
  });
});

describe('compareHandover', () => {
  it('a twin with the same chart, version and values is adopted unchanged', () => {
    const [h] = compareHandover([certManager], [twin()]);
    expect(h).toMatchObject({ release: 'cert-manager/cert-manager', verdict: 'unchanged', values: [], helmRelease: { id: 'cert-manager/cert-manager' } });
  });

  it('the example as it was: the tree turns cert-manager\'s CRD switch on, so the CRDs move to helm-controller', () => {
    const [h] = compareHandover([certManager], [twin({ values: { crds: { enabled: true, keep: true }, prometheus: { servicemonitor: { enabled: true } } } })]);
    expect(h!.verdict).toBe('crd-ownership');
    expect(describeDifferences(h!)).toEqual(['crds.enabled: false → true', 'crds.keep: unset → true', 'prometheus.servicemonitor.enabled: unset → true']);
  });

  it('another version or values only: an upgrade, with the version named', () => {
    const [h] = compareHandover([certManager], [twin({ chart: { url: 'oci://quay.io/jetstack/charts/cert-manager', version: 'v1.22.0', file: 'x' }, values: { crds: { enabled: false }, replicaCount: 2 } })]);
    expect(h!.verdict).toBe('upgrade');
    expect(describeDifferences(h!)).toEqual(['version: v1.21.1 → v1.22.0', 'replicaCount: unset → 2']);
  });

  it('v1.21.1 and 1.21.1 are one version (helm resolves either tag)', () => {
    const [h] = compareHandover([certManager], [twin({ chart: { url: 'oci://quay.io/jetstack/charts/cert-manager', version: '1.21.1', file: 'x' } })]);
    expect(h!.verdict).toBe('unchanged');
  });

  it('the same chart under another release name or namespace installs a second release beside the first', () => {
    const spegel: CoreRelease = { name: 'spegel', namespace: 'spegel', chart: 'ghcr.io/spegel-org/helm-charts/spegel', version: '0.7.4', values: {}, at: 'x:1' };
    const hr = twin({ name: 'spegel', namespace: 'kube-system', releaseName: 'spegel', storageNamespace: 'kube-system', targetNamespace: 'kube-system', chart: { url: 'oci://ghcr.io/spegel-org/helm-charts/spegel', version: '0.7.4', file: 'y' }, values: {} });
    const [h] = compareHandover([spegel], [hr]);
    expect(h).toMatchObject({ verdict: 'second-release', helmRelease: { id: 'kube-system/spegel', storageNamespace: 'kube-system' } });
  });

  it('helm-controller\'s release name decides the pairing: targetNamespace-name is another release', () => {
    const hr = twin({ releaseName: 'cert-manager-cert-manager' });
    expect(compareHandover([certManager], [hr])[0]!.verdict).toBe('second-release');
  });

  it('a core release no HelmRelease manages stays the bootstrap\'s', () => {
    expect(compareHandover([certManager], [])[0]).toMatchObject({ verdict: 'none', values: [] });
  });

  it('a twin whose chart the tree does not resolve offline is not compared, with the reason', () => {
    const [h] = compareHandover([certManager], [twin({ chart: { unresolved: 'OCIRepository cert-manager/cert-manager pins only a digest' } })]);
    expect(h).toMatchObject({ verdict: 'not-compared', reason: 'OCIRepository cert-manager/cert-manager pins only a digest' });
  });

  it('a twin whose values come partly from a Secret the tree does not hold is not compared, naming it', () => {
    const [h] = compareHandover([certManager], [twin({ missingValues: ['Secret cert-manager/cert-manager-values key values.yaml (SOPS-encrypted)'] })]);
    expect(h).toMatchObject({ verdict: 'not-compared', reason: 'its values from Secret cert-manager/cert-manager-values key values.yaml (SOPS-encrypted) are not in the tree' });
  });

  it('a difference marked intended (the path or below it) is still an upgrade, listed apart, and nothing unexpected', () => {
    const [h] = compareHandover([certManager], [twin({ values: { crds: { enabled: false }, prometheus: { enabled: true, servicemonitor: { enabled: true } } } })], [
      { release: 'cert-manager/cert-manager', path: 'prometheus', reason: 'no Prometheus before Flux' },
    ]);
    expect(h!.verdict).toBe('upgrade');
    expect(h!.intended.map((d) => d.path)).toEqual(['prometheus.enabled', 'prometheus.servicemonitor.enabled']);
    expect(describeDifferences(h!)).toEqual([]);
    expect(unexpected(h!)).toBe(false);
    expect(unexpected(compareHandover([certManager], [twin({ values: { replicaCount: 2, crds: { enabled: false } } })])[0]!)).toBe(true);
  });

  it('compares what helm renders: chart defaults under both sides, so a value set to its default is no difference, and a CRD switch left unset takes the chart\'s default', () => {
    const fluxOperator: CoreRelease = { name: 'flux-operator', namespace: 'flux-system', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1', values: { installCRDs: false }, at: 'x:75' };
    const hr = twin({ name: 'flux-operator', namespace: 'flux-system', releaseName: 'flux-operator', storageNamespace: 'flux-system', chart: { url: 'oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1', file: 'y' }, values: { serviceMonitor: { create: false } } });
    const defaults = new Map([[chartKey('oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator', '0.58.1'), { installCRDs: true, serviceMonitor: { create: false } }]]);
    const [h] = compareHandover([fluxOperator], [hr], [], { defaults, manifests: new Map() });
    expect(h!.verdict).toBe('crd-ownership');
    expect(describeDifferences(h!)).toEqual(['installCRDs: false → true']);
    expect(compareHandover([fluxOperator], [hr])[0]!.verdict).toBe('upgrade');
  });
});

describe('handoverFindings', () => {
  it('an upgrade warns, CRDs changing hands and a second release fail, unless cluster.yaml says otherwise', () => {
    const upgrade = compareHandover([certManager], [twin({ values: { crds: { enabled: false }, replicaCount: 2 } })]);
    const moved = compareHandover([certManager], [twin({ values: { crds: { enabled: true } } })]);
    expect(handoverFindings(withSeverities(upgrade)).map((f) => f.severity)).toEqual(['warn']);
    expect(handoverFindings(withSeverities(moved)).map((f) => [f.type, f.severity])).toEqual([['handover', undefined]]);
    expect(handoverFindings(withSeverities(upgrade, { upgrade: 'error' }))[0]!.severity).toBeUndefined();
    expect(handoverFindings(withSeverities(moved, { 'crd-ownership': 'warn' }))[0]!.severity).toBe('warn');
    expect(handoverFindings(withSeverities(compareHandover([certManager], [twin()])))).toEqual([]);
  });
});

describe('compareHandover with both sides rendered', () => {
  const deployment = (args: string[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cert-manager', namespace: 'cert-manager', labels: { app: 'cert-manager' } }, spec: { template: { spec: { containers: [{ name: 'controller', args }] } } } });
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cert-manager', namespace: 'cert-manager' }, spec: { ports: [{ port: 9402 }] } };
  const rendered = (core: object[], tree: object[]) => ({ defaults: new Map(), manifests: new Map([['cert-manager/cert-manager', { core, tree }]]) });

  it('values that render the same objects: an upgrade of the revision only, not a finding', () => {
    const [h] = withSeverities(compareHandover([certManager], [twin({ values: { crds: { enabled: false }, unusedByTheChart: true } })], [], rendered([deployment(['--v=2']), service], [service, deployment(['--v=2'])])));
    expect(h!.verdict).toBe('upgrade');
    expect(revisionOnly(h!)).toBe(true);
    expect(describeManifest(h!)).toBe('the same objects');
    expect(h!.severity).toBeUndefined();
    expect(handoverFindings([h!])).toEqual([]);
  });

  it('values that change an object: the finding names it', () => {
    const [h] = withSeverities(compareHandover([certManager], [twin({ values: { crds: { enabled: false }, dns01: true } })], [], rendered([deployment(['--v=2']), service], [deployment(['--v=2', '--dns01-recursive-nameservers-only']), service])));
    expect(revisionOnly(h!)).toBe(false);
    expect(h!.manifest).toEqual({ added: [], removed: [], changed: ['Deployment cert-manager/cert-manager'], });
    expect(handoverFindings([h!])[0]!.message).toContain('objects: changed: Deployment cert-manager/cert-manager');
  });

  it('helm-controller\'s origin labels are no change; an object moved to another apiVersion of its group is the same object, changed', () => {
    const labelled = { ...service, metadata: { ...service.metadata, labels: { 'helm.toolkit.fluxcd.io/name': 'cert-manager', 'helm.toolkit.fluxcd.io/namespace': 'cert-manager' } } };
    const [h] = compareHandover([certManager], [twin({ values: { crds: { enabled: false }, x: 1 } })], [], rendered([service, { ...deployment([]), apiVersion: 'apps/v1beta2' }], [labelled, deployment([])]));
    expect(h!.manifest).toEqual({ added: [], removed: [], changed: ['Deployment cert-manager/cert-manager'] });
  });

  it('CRDs changing hands: the finding names each CRD helm-controller takes and whether the keep annotation spares it', () => {
    const crd = (name: string, keep: boolean) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name, ...(keep ? { annotations: { 'helm.sh/resource-policy': 'keep' } } : {}) } });
    const switchedOn = twin({ values: { crds: { enabled: true } } });
    const [kept] = withSeverities(compareHandover([certManager], [switchedOn], [], rendered([service], [service, crd('issuers.cert-manager.io', true), crd('certificates.cert-manager.io', true)])));
    expect(kept!.crdsTaken).toEqual([{ name: 'certificates.cert-manager.io', kept: true }, { name: 'issuers.cert-manager.io', kept: true }]);
    expect(handoverFindings([kept!])[0]!.message).toContain(
      'to helm-controller, which keeps them if the switch is turned off again (CRDs helm-controller takes: certificates.cert-manager.io, issuers.cert-manager.io (annotated helm.sh/resource-policy: keep, so they stay))',
    );
    const [lost] = withSeverities(compareHandover([certManager], [switchedOn], [], rendered([service], [service, crd('issuers.cert-manager.io', false), crd('certificates.cert-manager.io', true)])));
    expect(handoverFindings([lost!])[0]!.message).toContain(
      'which deletes those not annotated if the switch is ever turned off again (CRDs helm-controller takes: certificates.cert-manager.io (annotated helm.sh/resource-policy: keep, so they stay); issuers.cert-manager.io (not annotated: deleted with every object of their kinds))',
    );
    expect(lost!.severity).toBe('error');
    // Without renders the finding says what may happen, not which CRDs.
    const [unrendered] = withSeverities(compareHandover([certManager], [switchedOn]));
    expect(unrendered!.crdsTaken).toBeUndefined();
    expect(handoverFindings([unrendered!])[0]!.message).toContain('which deletes them if the switch is ever turned off again (unless the chart annotates them helm.sh/resource-policy: keep)');
  });

  it('a chart that does not render is compared by its values, with the reason said', () => {
    const [h] = withSeverities(compareHandover([certManager], [twin({ values: { crds: { enabled: false }, x: 1 } })], [], { defaults: new Map(), manifests: new Map([['cert-manager/cert-manager', { unrendered: 'Error: chart "cert-manager" version "v1.21.1" not found' }]]) }));
    expect(h!.manifest).toBeUndefined();
    expect(h!.severity).toBe('warn');
    expect(handoverFindings([h!])[0]!.message).toContain('manifests not compared: Error: chart "cert-manager" version "v1.21.1" not found');
  });
});
