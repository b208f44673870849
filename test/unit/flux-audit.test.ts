import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../tasks/lib/model/crd-bundle.ts';
import { auditTree, type BootstrapRelease, type TreeAuditInput } from '../../tasks/lib/gitops/flux-audit.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import type { HelmReleaseCrds } from '../../tasks/lib/gitops/helmrelease-crds.ts';
import { DEFAULT_OPERATORS } from '../../tasks/lib/gitops/operators.ts';
import { failingFindings, formatRehearsal } from '../../tasks/lib/gitops/flux-report.ts';
import type { TreeFiles } from '../../tasks/lib/gitops/flux-tree.ts';

const files: TreeFiles = { applied: [], buildInputs: [], unreferenced: [] };

const obj = (apiVersion: string, kind: string, name: string) => ({ file: `apps/${name}.yaml`, object: { apiVersion, kind, metadata: { name } } });

function ks(id: string, over: Partial<FluxKustomization> = {}): FluxKustomization {
  const [namespace, name] = id.split('/') as [string, string];
  return { id, name, namespace, path: `./apps/${name}`, file: `apps/${name}/ks.yaml`, dependsOn: [], wait: false, healthChecks: [], objects: [], unresolved: [], ...over };
}

const silenceCrd: HelmReleaseCrds = {
  kustomization: 'obs/silence-operator',
  name: 'silence-operator',
  namespace: 'obs',
  file: 'apps/silence-operator/helmrelease.yaml',
  releaseName: 'silence-operator',
  targetNamespace: 'obs',
  storageNamespace: 'obs',
  missingValues: [],
  chart: { url: 'oci://gsoci.azurecr.io/charts/giantswarm/silence-operator', version: '0.20.0', file: 'apps/silence-operator/ocirepository.yaml' },
  installCrds: 'Create',
  upgradeCrds: 'Skip',
  values: {},
  crds: [{ group: 'observability.giantswarm.io', kind: 'Silence', versions: ['v1alpha2'] }],
};

const silence = obj('observability.giantswarm.io/v1alpha2', 'Silence', 'maintenance');
const bundleEntry = { group: 'monitoring.coreos.com', kind: 'PrometheusRule', versions: ['v1'], release: 'prometheus-operator-crds' } as ManifestEntry;
const fluxOperator: BootstrapRelease = { name: 'flux-operator', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true };

function input(kustomizations: FluxKustomization[], over: Partial<TreeAuditInput> = {}): TreeAuditInput {
  return { kustomizations, builtin: new Set(['v1 ConfigMap']), bundle: [bundleEntry], helmReleases: [silenceCrd], operators: DEFAULT_OPERATORS, bootstrapReleases: [fluxOperator], ...over };
}

const operatorKs = ks('obs/silence-operator', { wait: true });

describe('rehearse', () => {
  it('serves a HelmRelease-installed kind to a Kustomization that depends on the waiting one, a layer later', () => {
    const { layers, findings } = auditTree(input([operatorKs, ks('obs/silences', { dependsOn: ['obs/silence-operator'], objects: [silence] })]));
    expect(findings).toEqual([]);
    expect(layers.map((l) => [l.kustomization, l.layer])).toEqual([['obs/silence-operator', 0], ['obs/silences', 1]]);
    expect(layers[1]!.kinds[0]).toMatchObject({ ok: true, source: 'helmrelease' });
  });

  it('race: the kind is applied by a Kustomization that does not depend on the release’s one', () => {
    const { findings } = auditTree(input([operatorKs, ks('obs/silences', { objects: [silence] })]));
    expect(findings).toEqual([
      expect.objectContaining({ type: 'race', kustomization: 'obs/silences', file: 'apps/maintenance.yaml', fix: expect.stringMatching(/^add dependsOn obs\/silence-operator to obs\/silences/) }),
    ]);
  });

  it('race: a dependency without wait is Ready before its HelmRelease installed the CRD', () => {
    const { findings } = auditTree(input([ks('obs/silence-operator'), ks('obs/silences', { dependsOn: ['obs/silence-operator'], objects: [silence] })]));
    expect(findings[0]).toMatchObject({ type: 'race', fix: expect.stringMatching(/^set wait: true on obs\/silence-operator \(or a healthCheck on HelmRelease obs\/silence-operator\)/) });
  });

  it('a healthCheck on the HelmRelease is as good as wait', () => {
    const checked = ks('obs/silence-operator', { healthChecks: ['HelmRelease obs/silence-operator'] });
    expect(auditTree(input([checked, ks('obs/silences', { dependsOn: ['obs/silence-operator'], objects: [silence] })])).findings).toEqual([]);
  });

  it('race: the kind and the release that installs it in the same Kustomization', () => {
    const { findings } = auditTree(input([ks('obs/silence-operator', { wait: true, objects: [silence] })]));
    expect(findings[0]).toMatchObject({ type: 'race', message: expect.stringContaining('together with HelmRelease obs/silence-operator') });
  });

  it('a CRD object in the Kustomization’s own build is applied first: no finding', () => {
    const crd = { file: 'apps/crd.yaml', object: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'silences.observability.giantswarm.io' }, spec: { group: 'observability.giantswarm.io', names: { kind: 'Silence' }, versions: [{ name: 'v1alpha2', served: true }] } } };
    const { findings, layers } = auditTree(input([ks('obs/silences', { objects: [crd, silence] })], { builtin: new Set(['apiextensions.k8s.io/v1 CustomResourceDefinition']), helmReleases: [] }));
    expect(findings).toEqual([]);
    expect(layers[0]!.kinds.find((k) => k.kind === 'Silence')).toMatchObject({ source: 'tree-crd' });
  });

  it('missing: nothing provides the kind', () => {
    const { findings } = auditTree(input([ks('default/echo', { objects: [obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'echo')] })]));
    expect(findings).toEqual([expect.objectContaining({ type: 'missing', kind: 'gateway.networking.k8s.io/v1 HTTPRoute', file: 'apps/echo.yaml' })]);
  });

  it('Flux kinds are served at run time by the bootstrap’s flux-operator; cilium.io by cilium-operator only when its release waits first', () => {
    const flux = obj('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'app');
    const pool = obj('cilium.io/v2', 'CiliumLoadBalancerIPPool', 'pool');
    const cilium: HelmReleaseCrds = { ...silenceCrd, kustomization: 'kube-system/cilium', name: 'cilium', namespace: 'kube-system', crds: [] };
    const tree = [ks('kube-system/cilium', { wait: true }), ks('kube-system/config', { objects: [flux, pool] })];
    const { findings, layers } = auditTree(input(tree, { helmReleases: [cilium] }));
    expect(layers.find((l) => l.kustomization === 'kube-system/config')!.kinds.map((k) => [k.kind, k.ok])).toEqual([['CiliumLoadBalancerIPPool', false], ['HelmRelease', true]]);
    expect(findings).toEqual([expect.objectContaining({ type: 'operator-runtime', fix: expect.stringMatching(/^add dependsOn kube-system\/cilium to kube-system\/config/) })]);
    tree[1]!.dependsOn = ['kube-system/cilium'];
    expect(auditTree(input(tree, { helmReleases: [cilium] })).findings).toEqual([]);
  });

  it('cycle: reported once, and its members get no layer', () => {
    const { findings, layers } = auditTree(input([ks('a/x', { dependsOn: ['a/y'] }), ks('a/y', { dependsOn: ['a/x'] }), ks('a/z', { dependsOn: ['a/y'] })]));
    expect(findings.filter((f) => f.type === 'cycle').map((f) => f.message)).toEqual(['dependsOn cycle: a/x → a/y → a/x; none of them ever starts']);
    expect(layers.map((l) => l.layer)).toEqual([null, null, null]);
  });

  it('a failure carries down: every Kustomization behind a failing one is predicted blocked, naming the chain and the root cause', () => {
    const tree = [
      ks('obs/silence-operator'),
      ks('obs/silences', { dependsOn: ['obs/silence-operator'], objects: [silence] }),
      ks('obs/dashboards', { dependsOn: ['obs/silences'] }),
      ks('obs/alerts', { dependsOn: ['obs/dashboards', 'obs/silence-operator'] }),
    ];
    const { findings } = auditTree(input(tree));
    expect(findings.map((f) => `${f.type} ${f.kustomization}`)).toEqual(['race obs/silences', 'blocked obs/dashboards', 'blocked obs/alerts']);
    expect(findings[1]).toMatchObject({
      message: "dependency 'obs/silences' is not ready: obs/silences is predicted to fail (race observability.giantswarm.io/v1alpha2 Silence), so Flux never applies obs/dashboards",
      fix: expect.stringMatching(/^fix obs\/silences first \(its own finding: set wait: true on obs\/silence-operator/),
    });
    expect(findings[2]!.message).toBe(
      "dependency 'obs/dashboards' is not ready (obs/dashboards → obs/silences): obs/silences is predicted to fail (race observability.giantswarm.io/v1alpha2 Silence), so Flux never applies obs/alerts",
    );
    // Fixed at the root, nothing is blocked.
    tree[0] = ks('obs/silence-operator', { wait: true });
    expect(auditTree(input(tree)).findings).toEqual([]);
  });

  it('a kind only an unrendered chart elsewhere in the tree may provide is unknown, not missing', () => {
    const unrendered: HelmReleaseCrds = { ...silenceCrd, crds: [], notRendered: { reason: 'not rehearsed: chart unreachable', fix: 'push it' } };
    const { findings } = auditTree(input([operatorKs, ks('obs/silences', { objects: [silence] })], { helmReleases: [unrendered] }));
    expect(findings.map((f) => f.type)).toEqual(['not-rehearsed', 'not-rehearsed']);
    expect(findings[1]!.message).toBe(
      'nothing rendered provides observability.giantswarm.io/v1alpha2 Silence; HelmRelease obs/silence-operator (in obs/silence-operator, which obs/silences does not depend on) was not rendered and may',
    );
  });

  it('a dependsOn on a Kustomization the tree does not define is named', () => {
    const { findings } = auditTree(input([ks('a/x', { dependsOn: ['flux-system/gone'] })]));
    expect(findings).toEqual([expect.objectContaining({ type: 'dependency', message: expect.stringContaining('dependsOn flux-system/gone') })]);
  });

  it('version-skew: the tree and the bootstrap pin different versions of one chart; a leading v is not a difference', () => {
    const pin = (version: string): BootstrapRelease => ({ name: 'silence-operator', chart: 'gsoci.azurecr.io/charts/giantswarm/silence-operator', version, stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true });
    const tree = [operatorKs];
    expect(auditTree(input(tree, { bootstrapReleases: [pin('v0.20.0')] })).findings).toEqual([]);
    expect(auditTree(input(tree, { bootstrapReleases: [pin('0.19.1')] })).findings).toEqual([
      expect.objectContaining({ type: 'version-skew', file: 'apps/silence-operator/ocirepository.yaml', message: expect.stringContaining('pins silence-operator 0.19.1 for the bootstrap, the tree pins 0.20.0') }),
    ]);
  });

  it('version-skew is a warning, and fails the audit with gitops.pinSkew: error, naming the state file’s line', () => {
    const skewed: BootstrapRelease = { name: 'silence-operator', chart: 'gsoci.azurecr.io/charts/giantswarm/silence-operator', version: '0.19.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', line: 57, installed: true };
    const warned = auditTree(input([operatorKs], { bootstrapReleases: [skewed] }));
    expect(warned.findings[0]).toMatchObject({ severity: 'warn', message: expect.stringMatching(/^helmfile\.d\/01-core\.yaml\.gotmpl:57 pins silence-operator 0\.19\.1/) });
    expect(failingFindings(warned)).toEqual([]);
    expect(formatRehearsal(warned, files, false)).toContain('  ! version-skew: helmfile.d/01-core.yaml.gotmpl:57 pins silence-operator 0.19.1');
    expect(formatRehearsal(warned, files, false)).toMatch(/, 0 findings, 1 warnings\n/);

    const failed = auditTree(input([operatorKs], { bootstrapReleases: [skewed], pinSkew: 'error' }));
    expect(failed.findings[0]!.severity).toBeUndefined();
    expect(failingFindings(failed)).toHaveLength(1);
    expect(formatRehearsal(failed, files, false)).toContain('  ✗ version-skew: helmfile.d/01-core.yaml.gotmpl:57 pins');
    expect(formatRehearsal(failed, files, false)).toMatch(/, 1 findings\n/);
  });

  it('a race whose dependency gates on a healthCheck says so in its fix (never "has no wait")', () => {
    const checked = ks('obs/silence-operator', { healthChecks: ['HelmRelease obs/silence-operator'] });
    const { findings } = auditTree(input([checked, ks('obs/silences', { objects: [silence] })]));
    expect(findings[0]!.fix).toBe('add dependsOn obs/silence-operator to obs/silences (obs/silence-operator has a healthCheck on HelmRelease obs/silence-operator), or move the chart to helmfile.d/00-crds');
  });

  it('a chart that was not rendered is a finding, and the kinds it may serve are unknown, not missing', () => {
    const unrendered: HelmReleaseCrds = { ...silenceCrd, crds: [], notRendered: { reason: 'not rehearsed: chart unreachable: not found', fix: 'push it' } };
    const { findings } = auditTree(input([operatorKs, ks('obs/silences', { dependsOn: ['obs/silence-operator'], objects: [silence] })], { helmReleases: [unrendered] }));
    expect(findings).toEqual([
      { type: 'not-rehearsed', kustomization: 'obs/silence-operator', file: 'apps/silence-operator/helmrelease.yaml', message: 'HelmRelease obs/silence-operator: not rehearsed: chart unreachable: not found; the CRDs its chart installs are unknown', fix: 'push it' },
      expect.objectContaining({ type: 'not-rehearsed', kustomization: 'obs/silences', message: 'nothing rendered provides observability.giantswarm.io/v1alpha2 Silence; HelmRelease obs/silence-operator was not rendered and may' }),
    ]);
  });

  it('a Kustomization from another source is not rehearsed, and says how to map it', () => {
    const { findings } = auditTree(input([ks('flux-system/private', { foreignSource: 'GitRepository flux-system/private-repo' })]));
    expect(findings).toEqual([
      expect.objectContaining({ type: 'not-rehearsed', message: 'built from another source (GitRepository flux-system/private-repo), not rehearsed: its objects are unknown here' }),
    ]);
  });

  it('kinds the platform serves (gitops.platformGroups) are never missing', () => {
    const machine = obj('talos.dev/v1alpha1', 'ServiceAccount', 'talos-backup');
    expect(auditTree(input([ks('kube-system/talos-backup', { objects: [machine] })])).findings).toMatchObject([{ type: 'missing' }]);
    const { findings, layers } = auditTree(input([ks('kube-system/talos-backup', { objects: [machine] })], { platformGroups: ['talos.dev'] }));
    expect(findings).toEqual([]);
    expect(layers[0]!.kinds[0]).toMatchObject({ ok: true, source: 'platform', servedBy: 'served by the platform (gitops.platformGroups)' });
  });

  it('version skew of a chart without CRDs speaks of the release, not of CRDs', () => {
    const coredns: HelmReleaseCrds = { ...silenceCrd, name: 'coredns', kustomization: 'kube-system/coredns', chart: { url: 'oci://ghcr.io/coredns/charts/coredns', version: '1.48.0', file: 'apps/coredns/ocirepository.yaml' }, crds: [] };
    const pin: BootstrapRelease = { name: 'coredns', chart: 'ghcr.io/coredns/charts/coredns', version: '1.47.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true };
    const { findings } = auditTree(input([ks('kube-system/coredns')], { helmReleases: [coredns], bootstrapReleases: [pin] }));
    expect(findings.map((f) => f.message)).toEqual([
      'helmfile.d/01-core.yaml.gotmpl pins coredns 1.47.1 for the bootstrap, the tree pins 1.48.0 for HelmRelease obs/coredns: right after the bootstrap Flux moves the release to 1.48.0',
    ]);
  });

  it('a chart pinned by a semver range is compared by the version it resolved to', () => {
    const ranged: HelmReleaseCrds = { ...silenceCrd, chart: { ...(silenceCrd.chart as { url: string; version: string; file: string }), version: '>=0.20.0 <0.21.0' }, resolvedVersion: '0.20.0' };
    const pin = (version: string): BootstrapRelease => ({ name: 'silence-operator', chart: 'gsoci.azurecr.io/charts/giantswarm/silence-operator', version, stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true });
    expect(auditTree(input([operatorKs], { helmReleases: [ranged], bootstrapReleases: [pin('0.20.0')] })).findings).toEqual([]);
    expect(auditTree(input([operatorKs], { helmReleases: [ranged], bootstrapReleases: [pin('0.19.1')] })).findings.map((f) => f.message)).toEqual([
      'helmfile.d/01-core.yaml.gotmpl pins silence-operator 0.19.1 for the bootstrap, the tree pins 0.20.0 for HelmRelease obs/silence-operator: right after the bootstrap Flux moves the release to 0.20.0, its operator against CRDs of 0.19.1',
    ]);
  });
});
