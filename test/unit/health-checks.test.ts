import { describe, expect, it } from 'vitest';
import { auditTree, type BootstrapRelease } from '../../tasks/lib/gitops/flux-audit.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import { healthCheckFindings } from '../../tasks/lib/gitops/health-checks.ts';
import type { HelmReleaseCrds } from '../../tasks/lib/gitops/helmrelease-crds.ts';
import { DEFAULT_OPERATORS } from '../../tasks/lib/gitops/operators.ts';

function ks(id: string, over: Partial<FluxKustomization> = {}): FluxKustomization {
  const [namespace, name] = id.split('/') as [string, string];
  return { id, name, namespace, path: `./apps/${name}`, file: `apps/${name}/ks.yaml`, dependsOn: [], wait: false, healthChecks: [], objects: [], unresolved: [], ...over };
}

// The tree's cert-manager HelmRelease carries the ClusterIssuer CRD (crds.enabled: true), as in the example.
const certManager: HelmReleaseCrds = {
  kustomization: 'cert-manager/cert-manager', name: 'cert-manager', namespace: 'cert-manager', file: 'apps/cert-manager/helmrelease.yaml', releaseName: 'cert-manager', targetNamespace: 'cert-manager', storageNamespace: 'cert-manager', missingValues: [],
  chart: { url: 'oci://quay.io/jetstack/charts/cert-manager', version: 'v1.19.1', file: 'apps/cert-manager/ocirepository.yaml' }, installCrds: 'CreateReplace', upgradeCrds: 'CreateReplace', values: {},
  crds: [{ group: 'cert-manager.io', kind: 'ClusterIssuer', versions: ['v1'] }],
};
const issuer = { file: 'apps/issuers/clusterissuer.yaml', object: { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'letsencrypt-production' } } };
const fluxOperator: BootstrapRelease = { name: 'flux-operator', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true };
const coreCertManager: BootstrapRelease = { name: 'cert-manager', chart: 'quay.io/jetstack/charts/cert-manager', version: 'v1.19.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true };

const issuers = (over: Partial<FluxKustomization> = {}) => ks('cert-manager/issuers', { wait: true, healthCheckExprs: [{ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer' }], objects: [issuer], ...over });
const controller = (over: Partial<FluxKustomization> = {}) => ks('cert-manager/cert-manager', { wait: true, ...over });
const judge = (tree: FluxKustomization[], bootstrap: BootstrapRelease[] = [fluxOperator]) => healthCheckFindings(tree, [certManager], bootstrap, DEFAULT_OPERATORS);

describe('healthCheckFindings', () => {
  it('the controller in a dependency Flux has seen Ready, or installed by core: nothing to say', () => {
    expect(judge([controller(), issuers({ dependsOn: ['cert-manager/cert-manager'] })])).toEqual([]);
    expect(judge([controller({ dependsOn: ['cert-manager/issuers'] }), issuers()], [fluxOperator, coreCertManager])).toEqual([]);
  });

  it('no health check on those objects (no wait, not in healthChecks): nothing to say', () => {
    expect(judge([controller(), issuers({ wait: false })])).toEqual([]);
    expect(judge([controller(), issuers({ wait: false, healthChecks: ['ClusterIssuer cert-manager/letsencrypt-production'] })])).toHaveLength(1);
  });

  it('the controller in a Kustomization it does not depend on: it fails until that release is installed', () => {
    const [finding] = judge([controller(), issuers()]);
    expect(finding).toMatchObject({
      type: 'health-check',
      kustomization: 'cert-manager/issuers',
      file: 'apps/issuers/clusterissuer.yaml',
      kind: 'cert-manager.io/v1 ClusterIssuer',
      message: 'cert-manager/issuers checks the health of ClusterIssuer (letsencrypt-production) by healthCheckExprs before their controller (HelmRelease cert-manager/cert-manager in cert-manager/cert-manager) is running: it fails until that release is installed, then on a retry (retryInterval)',
      fix: 'add dependsOn cert-manager/cert-manager to cert-manager/issuers (with wait: true there), or install the controller in helmfile.d/01-core',
    });
  });

  it('the controller behind it: it waits forever, and what depends on it is blocked', () => {
    const tree = [controller({ dependsOn: ['cert-manager/issuers'] }), issuers()];
    const findings = judge(tree);
    expect(findings[0]!.message).toContain('is installed only after cert-manager/issuers is Ready: it waits forever');
    const all = auditTree({ kustomizations: tree, builtin: new Set(), bundle: [{ group: 'cert-manager.io', kind: 'ClusterIssuer', versions: ['v1'], release: 'cert-manager' } as never], helmReleases: [certManager], operators: DEFAULT_OPERATORS, bootstrapReleases: [fluxOperator], treeFindings: findings }).findings;
    expect(all.map((f) => `${f.type} ${f.kustomization}`)).toEqual(['health-check cert-manager/issuers', 'blocked cert-manager/cert-manager']);
  });
});

describe('healthCheckFindings: a chart of CRDs alone', () => {
  // cert-manager's CRDs from a CRD-only chart, its controller installed with crds.enabled: false (it carries none).
  const certManagerCrds: HelmReleaseCrds = { ...certManager, kustomization: 'cert-manager/crds', name: 'cert-manager-crds', crdsOnly: true };
  const withoutCrds: HelmReleaseCrds = { ...certManager, crds: [] };
  const tree = [ks('cert-manager/crds', { wait: true }), controller(), issuers({ dependsOn: ['cert-manager/crds'] })];

  it('is not taken for the controller: Ready CRDs do not make the health check pass', () => {
    const [finding] = healthCheckFindings(tree, [certManagerCrds, withoutCrds], [fluxOperator], DEFAULT_OPERATORS);
    expect(finding).toMatchObject({ type: 'health-check', severity: 'warn', kustomization: 'cert-manager/issuers', kind: 'cert-manager.io/v1 ClusterIssuer' });
    expect(finding!.message).toContain('a chart of CRDs alone (HelmRelease cert-manager/cert-manager-crds), which runs no controller');
    expect(finding!.fix).toBe('make sure cert-manager/issuers depends (with wait: true) on the Kustomization of the release that runs the controller of cert-manager.io');
  });

  it('the controller found another way (an operator declared for the group): judged as usual', () => {
    const operator = { name: 'cert-manager', release: 'cert-manager', groups: ['cert-manager.io'] };
    const findings = healthCheckFindings(tree, [certManagerCrds, withoutCrds], [fluxOperator], [...DEFAULT_OPERATORS, operator]);
    expect(findings.map((f) => [f.severity, f.message.split(':')[0]])).toEqual([[undefined, 'cert-manager/issuers checks the health of ClusterIssuer (letsencrypt-production) by healthCheckExprs before their controller (HelmRelease cert-manager/cert-manager in cert-manager/cert-manager) is running']]);
  });
});
