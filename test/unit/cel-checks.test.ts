// Flux's CEL checked by Flux's own code: the flux-build helper (built by scripts/build-tools.sh
// before any test runs) parses and type-checks each expression, so the messages are Flux's.
import { describe, expect, it } from 'vitest';
import { celFindings, celSites } from '../../tasks/lib/gitops/cel-checks.ts';
import { auditTree } from '../../tasks/lib/gitops/flux-audit.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import { DEFAULT_OPERATORS } from '../../tasks/lib/gitops/operators.ts';

function ks(id: string, over: Partial<FluxKustomization> = {}): FluxKustomization {
  const [namespace, name] = id.split('/') as [string, string];
  return { id, name, namespace, path: `./apps/${name}`, file: `apps/${name}/ks.yaml`, dependsOn: [], wait: false, healthChecks: [], objects: [], unresolved: [], ...over };
}

// As real trees write them (cert-manager's ClusterIssuers, FACTS §6).
const READY = "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')";
const issuerCheck = (current: string) => [{ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', current, failed: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')" }];
const kustomizationObject = (name: string, spec: Record<string, unknown>) => ({
  file: `apps/cert-manager/ks.yaml`,
  object: { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name, namespace: 'cert-manager' }, spec: { path: `./apps/${name}`, ...spec } },
});
const helmReleaseObject = (name: string, spec: Record<string, unknown>) => ({
  file: `apps/${name}/helmrelease.yaml`,
  object: { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name, namespace: 'default' }, spec },
});

function tree(issuers: Record<string, unknown>, app: Record<string, unknown> = {}, appWaits = false): FluxKustomization[] {
  return [
    ks('flux-system/cluster-apps', { objects: [kustomizationObject('cert-manager-issuers', issuers), kustomizationObject('cert-manager', {})] }),
    ks('cert-manager/cert-manager'),
    ks('cert-manager/cert-manager-issuers', { dependsOn: ['cert-manager/cert-manager'] }),
    ks('default/app', { dependsOn: ['cert-manager/cert-manager-issuers'], wait: appWaits, objects: [helmReleaseObject('echo', app)] }),
    ks('default/web', { dependsOn: ['default/app'] }),
  ];
}

// Core installs flux-operator: Flux's kinds are served before any Kustomization.
const fluxOperator = { name: 'flux-operator', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1', stateFile: 'helmfile.d/01-core.yaml.gotmpl', installed: true };

describe('celSites', () => {
  it('finds healthCheckExprs and each readyExpr, and what each one takes down', () => {
    const sites = celSites(tree({ healthCheckExprs: issuerCheck(READY) }, { dependsOn: [{ name: 'x' }, { name: 'y', readyExpr: 'dep.status.ok' }], healthCheckExprs: issuerCheck(READY) }));
    expect(sites.map((s) => `${s.object} ${s.field} → ${s.kustomization}${s.contained ? ' (contained)' : ''}`)).toEqual([
      'Kustomization cert-manager/cert-manager-issuers spec.healthCheckExprs → cert-manager/cert-manager-issuers',
      'HelmRelease default/echo spec.healthCheckExprs → default/app (contained)',
      'HelmRelease default/echo spec.dependsOn[1].readyExpr → default/app (contained)',
    ]);
  });
});

describe('celFindings (Flux\'s CEL code)', () => {
  it('accepts what real trees write', async () => {
    expect(await celFindings(tree({ healthCheckExprs: issuerCheck(READY), dependsOn: [{ name: 'cert-manager', readyExpr: "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')" }] }), 'infra')).toEqual([]);
  });

  it('a syntax error, a readyExpr that is not a bool, a missing current: each a finding with Flux\'s message, the object, the file and the field', async () => {
    const findings = await celFindings(
      tree(
        { healthCheckExprs: issuerCheck("status.conditions.filter(e, e.type == 'Ready').all(e, e.status == )"), dependsOn: [{ name: 'cert-manager', readyExpr: 'size(dep.status.conditions)' }] },
        { healthCheckExprs: [{ apiVersion: 'cert-manager.io/v1', kind: 'Certificate' }] },
      ),
      'infra',
    );
    expect(findings.map((f) => `${f.type} ${f.kustomization} ${f.file}`)).toEqual([
      'cel cert-manager/cert-manager-issuers apps/cert-manager/ks.yaml',
      'cel cert-manager/cert-manager-issuers apps/cert-manager/ks.yaml',
      'cel default/app apps/echo/helmrelease.yaml',
    ]);
    expect(findings[0]!.message).toMatch(/^Kustomization cert-manager\/cert-manager-issuers spec\.healthCheckExprs: Flux refuses the expression \(failed to create custom status evaluator for healthchecks\[0\]: failed to parse the expression Current: .*Syntax error.*\); kustomize-controller stalls it \(InvalidCELExpression\)/s);
    expect(findings[1]!.message).toMatch(/^Kustomization cert-manager\/cert-manager-issuers spec\.dependsOn\[0\]\.readyExpr: Flux refuses the expression \(readyExpr: CEL expression output type mismatch: expected bool, got int\)/);
    expect(findings[2]!.message).toContain('expression Current not specified');
    expect(findings[2]).toMatchObject({ contained: true });
    expect(findings[0]!.fix).toContain('fix spec.healthCheckExprs in apps/cert-manager/ks.yaml');
  });

  it('a refused expression fails its Kustomization, and its dependents are blocked; a HelmRelease\'s fails only what waits for it', async () => {
    const kustomizations = tree({ healthCheckExprs: issuerCheck('status.conditions.(') }, { healthCheckExprs: issuerCheck('status.(') });
    const audit = (k: FluxKustomization[], cel: Awaited<ReturnType<typeof celFindings>>) =>
      auditTree({ kustomizations: k, builtin: new Set(), bundle: [], helmReleases: [], operators: DEFAULT_OPERATORS, bootstrapReleases: [fluxOperator], treeFindings: cel }).findings.map((f) => `${f.type} ${f.kustomization}`);
    expect(audit(kustomizations, await celFindings(kustomizations, 'infra'))).toEqual(['cel cert-manager/cert-manager-issuers', 'cel default/app', 'blocked default/app', 'blocked default/web']);
    // Issuers fixed: the HelmRelease's error stays with it while default/app does not wait for it.
    const fixed = tree({ healthCheckExprs: issuerCheck(READY) }, { healthCheckExprs: issuerCheck('status.(') });
    expect(audit(fixed, await celFindings(fixed, 'infra'))).toEqual(['cel default/app']);
    const waiting = tree({ healthCheckExprs: issuerCheck(READY) }, { healthCheckExprs: issuerCheck('status.(') }, true);
    expect(audit(waiting, await celFindings(waiting, 'infra'))).toEqual(['cel default/app', 'blocked default/web']);
  });
});
