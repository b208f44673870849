// dependsOn[].readyExpr as kustomize-controller v1.9.6 checks it: instead of the dependency's
// Ready condition unless AdditiveCELDependencyCheck is on. Expressions are evaluated by Flux's own
// CEL code (the flux-build helper, built before any test runs).
import { describe, expect, it } from 'vitest';
import { auditTree, treeServedKinds } from '../../tasks/lib/gitops/flux-audit.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import type { HelmReleaseCrds } from '../../tasks/lib/gitops/helmrelease-crds.ts';
import { DEFAULT_OPERATORS } from '../../tasks/lib/gitops/operators.ts';
import { additiveDependencyCheck, withEarlyDependencies } from '../../tasks/lib/gitops/ready-expr.ts';

function ks(id: string, over: Partial<FluxKustomization> = {}): FluxKustomization {
  const [namespace, name] = id.split('/') as [string, string];
  return { id, name, namespace, path: `./apps/${name}`, file: `apps/${name}/ks.yaml`, dependsOn: [], wait: false, healthChecks: [], objects: [], unresolved: [], ...over };
}

const silenceOperator: HelmReleaseCrds = {
  kustomization: 'obs/silence-operator', name: 'silence-operator', namespace: 'obs', file: 'apps/silence-operator/helmrelease.yaml', releaseName: 'silence-operator', targetNamespace: 'obs', storageNamespace: 'obs', missingValues: [],
  chart: { url: 'oci://gsoci.azurecr.io/charts/giantswarm/silence-operator', version: '0.20.0', file: 'apps/silence-operator/ocirepository.yaml' }, installCrds: 'Create', upgradeCrds: 'Skip', values: {},
  crds: [{ group: 'observability.giantswarm.io', kind: 'Silence', versions: ['v1alpha2'] }],
};
const silence = { file: 'apps/silences/silence.yaml', object: { apiVersion: 'observability.giantswarm.io/v1alpha2', kind: 'Silence', metadata: { name: 'maintenance' } } };
const fluxOperator = { name: 'flux-operator', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true };

// As Flux's docs write them: one that waits for nothing but the dependency's generation, one that requires Ready.
const GENERATION = 'dep.metadata.generation == 1';
const READY = "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')";

const tree = (readyExpr: string) => [
  ks('obs/silence-operator', { wait: true }),
  ks('obs/silences', { dependsOn: ['obs/silence-operator'], readyExprs: { 'obs/silence-operator': readyExpr }, objects: [silence] }),
];
const audit = (kustomizations: FluxKustomization[]) =>
  auditTree({ kustomizations, builtin: new Set(), bundle: [], helmReleases: [silenceOperator], operators: DEFAULT_OPERATORS, bootstrapReleases: [fluxOperator] }).findings;

describe('additiveDependencyCheck', () => {
  it('reads the gate from kustomize-controller flags; the last setting counts; off by default', () => {
    expect(additiveDependencyCheck([])).toBe(false);
    expect(additiveDependencyCheck(['--concurrent=8', '--feature-gates=CacheSecretsAndConfigMaps=true,AdditiveCELDependencyCheck=true'])).toBe(true);
    expect(additiveDependencyCheck(['--feature-gates=AdditiveCELDependencyCheck=true', '--feature-gates=AdditiveCELDependencyCheck=false'])).toBe(false);
  });
});

describe('readyExpr instead of Ready', () => {
  it('an expression that holds while the dependency still runs its health checks: the HelmRelease\'s CRD is a race, naming the expression and the fixes', async () => {
    const early = await withEarlyDependencies(tree(GENERATION), 'infra', false);
    expect(early[1]!.early).toEqual(['obs/silence-operator']);
    const findings = audit(early);
    expect(findings.map((f) => `${f.type} ${f.kustomization}`)).toEqual(['race obs/silences']);
    expect(findings[0]!.message).toBe(
      "obs/silences depends on obs/silence-operator, whose HelmRelease obs/silence-operator installs the Silence CRD, but obs/silences's readyExpr for it (dep.metadata.generation == 1) already holds before obs/silence-operator is Ready, and Flux checks it instead of Ready (kustomize-controller's AdditiveCELDependencyCheck is off)",
    );
    expect(findings[0]!.fix).toContain('--feature-gates=AdditiveCELDependencyCheck=true');
    // What a chart of obs/silences renders no longer sees the Silence CRD either.
    expect(treeServedKinds(early, [silenceOperator], 'obs/silences')).toEqual([]);
  });

  it('an expression that requires Ready, or the gate on: the dependency is waited for, nothing to say', async () => {
    const ready = await withEarlyDependencies(tree(READY), 'infra', false);
    expect(ready[1]!.early).toBeUndefined();
    expect(audit(ready)).toEqual([]);
    const additive = await withEarlyDependencies(tree(GENERATION), 'infra', true);
    expect(additive[1]!.early).toBeUndefined();
    expect(audit(additive)).toEqual([]);
  });

  it('below an early dependency, what it waited for is still Ready: the walk goes on', async () => {
    const kustomizations = await withEarlyDependencies(
      [
        ks('obs/silence-operator', { wait: true }),
        ks('obs/config', { dependsOn: ['obs/silence-operator'] }),
        ks('obs/silences', { dependsOn: ['obs/config'], readyExprs: { 'obs/config': GENERATION }, objects: [silence] }),
      ],
      'infra',
      false,
    );
    expect(kustomizations[2]!.early).toEqual(['obs/config']);
    expect(audit(kustomizations)).toEqual([]);
  });
});
