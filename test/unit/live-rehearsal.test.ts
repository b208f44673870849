// The audit against Flux's verdict, per Kustomization (pure): trouble predicted exactly where Flux
// failed; every member of a dependsOn cycle counts as predicted; an operator's run-time kind that
// Flux could not find is an accepted difference, said why.
import { describe, expect, it } from 'vitest';
import { FOREIGN_SOURCE, type LayerRow, type TreeAudit } from '../../tasks/lib/gitops/flux-audit.ts';
import { compareWithAudit, waitsForSource, type FluxVerdict } from '../../tasks/lib/rehearsal/live-rehearsal.ts';

const row = (kustomization: string, layer: number | null, kinds: LayerRow['kinds'] = []): LayerRow => ({ layer, kustomization, file: `${kustomization}.yaml`, dependsOn: [], wait: false, kinds });
const ready = (kustomization: string): FluxVerdict => ({ kustomization, outcome: 'ready', seconds: 1, message: 'Applied revision' });
const failed = (kustomization: string, message: string): FluxVerdict => ({ kustomization, outcome: 'not-ready', seconds: 1, firstFailure: message, message });

describe('compareWithAudit', () => {
  it('agrees where both see a race, and where both see nothing', () => {
    const audit: TreeAudit = {
      layers: [row('a/ok', 0), row('a/racy', 0)],
      findings: [{ type: 'race', kustomization: 'a/racy', file: 'x', kind: 'example.io/v1 Thing', message: 'race', fix: 'dependsOn' }],
    };
    const result = compareWithAudit(audit, [ready('a/ok'), failed('a/racy', 'no matches for kind "Thing" in version "example.io/v1"')]);
    expect(result.map((c) => [c.kustomization, c.agreed])).toEqual([['a/ok', true], ['a/racy', true]]);
    expect(result[1]!.audit).toBe('race example.io/v1 Thing');
  });

  it('counts every Kustomization in or behind a cycle as predicted, not only the one the finding names', () => {
    const audit: TreeAudit = {
      layers: [row('c/one', null), row('c/two', null)],
      findings: [{ type: 'cycle', kustomization: 'c/one', file: 'x', message: 'dependsOn cycle', fix: 'remove one' }],
    };
    const result = compareWithAudit(audit, [failed('c/one', "dependency 'c/two' is not ready"), failed('c/two', "dependency 'c/one' is not ready")]);
    expect(result.every((c) => c.agreed)).toBe(true);
    expect(result[1]!.audit).toContain('cycle');
  });

  it('a dependent of a failing Kustomization, predicted blocked, agrees with Flux\'s "dependency is not ready"', () => {
    const audit: TreeAudit = {
      layers: [row('a/racy', 0), row('a/after', 1)],
      findings: [
        { type: 'race', kustomization: 'a/racy', file: 'x', kind: 'example.io/v1 Thing', message: 'race', fix: 'dependsOn' },
        { type: 'blocked', kustomization: 'a/after', file: 'y', message: "dependency 'a/racy' is not ready", fix: 'fix a/racy first' },
      ],
    };
    const result = compareWithAudit(audit, [failed('a/racy', 'no matches for kind "Thing"'), failed('a/after', "dependency 'a/racy' is not ready")]);
    expect(result.map((c) => [c.kustomization, c.audit, c.agreed])).toEqual([['a/after', 'blocked', true], ['a/racy', 'race example.io/v1 Thing', true]]);
  });

  it('accepts, and says why, a run-time kind of an operator that does not run in a rehearsal', () => {
    const kinds: LayerRow['kinds'] = [{ apiVersion: 'cilium.io/v2', kind: 'CiliumLoadBalancerIPPool', files: [], ok: true, source: 'operator', servedBy: 'at run time by cilium-operator (bootstrap release cilium)' }];
    const audit: TreeAudit = { layers: [row('k/cilium-config', 1, kinds)], findings: [] };
    const [result] = compareWithAudit(audit, [failed('k/cilium-config', 'CiliumLoadBalancerIPPool/k/pool dry-run failed: no matches for kind "CiliumLoadBalancerIPPool" in version "cilium.io/v2"')]);
    expect(result!.agreed).toBe(false);
    expect(result!.accepted).toContain('registered at run time by cilium-operator');
  });

  it('a difference with no reason to accept it stays a difference', () => {
    const [result] = compareWithAudit({ layers: [row('d/echo', 0)], findings: [] }, [failed('d/echo', 'health check failed')]);
    expect(result).toMatchObject({ agreed: false, audit: 'comes up' });
    expect(result!.accepted).toBeUndefined();
  });

  it('a CEL expression and a health check agree only with Flux saying so', () => {
    const audit: TreeAudit = {
      layers: [row('c/issuers', 1), row('o/silences', 0)],
      findings: [
        { type: 'cel', kustomization: 'c/issuers', file: 'x', message: 'Flux refuses the expression', fix: 'fix it' },
        { type: 'health-check', kustomization: 'o/silences', file: 'y', kind: 'observability.giantswarm.io/v1alpha2 Silence', message: 'waits forever', fix: 'dependsOn' },
      ],
    };
    const celError = "failed to create custom status evaluator for healthchecks[0]: failed to parse the CEL expression 'x ==': ERROR";
    // Still in progress: Ready says little, kustomize-controller's Healthy condition says why.
    const waiting: FluxVerdict = { kustomization: 'o/silences', outcome: 'not-ready', seconds: 60, message: 'Reconciliation in progress', reason: 'Progressing', healthy: 'Running health checks for revision refs/heads/main@sha1:0 with a timeout of 5m0s' };
    const agreed = compareWithAudit(audit, [failed('c/issuers', celError), waiting]);
    expect(agreed.map((c) => [c.kustomization, c.agreed])).toEqual([['c/issuers', true], ['o/silences', true]]);
    const { healthy: _, ...unexplained } = waiting;
    expect(compareWithAudit(audit, [failed('c/issuers', celError), unexplained])[1]).toMatchObject({ kustomization: 'o/silences', agreed: false });
    // Failing, but not for the reason the audit gives.
    const other = compareWithAudit(audit, [failed('c/issuers', 'Issuer/c/x dry-run failed: no matches for kind "Issuer"'), failed('o/silences', 'kustomize build failed')]);
    expect(other.map((c) => [c.kustomization, c.agreed])).toEqual([['c/issuers', false], ['o/silences', false]]);
  });

  it('a predicted race does not agree with a failure for another reason: the reasons must match', () => {
    const audit: TreeAudit = {
      layers: [row('a/racy', 0)],
      findings: [{ type: 'race', kustomization: 'a/racy', file: 'x', kind: 'example.io/v1 Thing', message: 'race', fix: 'dependsOn' }],
    };
    const [result] = compareWithAudit(audit, [failed('a/racy', 'Secret/a/token dry-run failed: admission webhook denied the request')]);
    expect(result).toMatchObject({ agreed: false, audit: 'race example.io/v1 Thing' });
  });

  it('a Kustomization Flux never reached is neither agreed nor accepted, even where the audit predicted trouble', () => {
    const audit: TreeAudit = {
      layers: [row('a/parent', 0), row('a/child', 1)],
      findings: [{ type: 'not-rehearsed', kustomization: 'a/child', file: 'y', message: 'chart unreachable', fix: 'push it' }, { type: 'blocked', kustomization: 'a/child', file: 'y', message: 'blocked', fix: 'x' }],
    };
    const result = compareWithAudit(audit, [failed('a/parent', 'kustomize build failed')]);
    expect(result.find((c) => c.kustomization === 'a/child')).toEqual({
      kustomization: 'a/child', audit: 'blocked', flux: 'never reached: the Kustomization that applies it never applied', agreed: false, neverReached: true,
    });
  });

  it('a Kustomization from a source the rehearsal does not serve is accepted only where Flux says that source never had an artifact', () => {
    const audit: TreeAudit = {
      layers: [row('d/private', 0)],
      findings: [{ type: 'not-rehearsed', kustomization: 'd/private', file: 'ks.yaml', message: `${FOREIGN_SOURCE} (GitRepository flux-system/home-ops-private), not rehearsed`, fix: 'map it' }],
    };
    const waiting: FluxVerdict = { kustomization: 'd/private', outcome: 'not-ready', seconds: 40, message: 'Source artifact not found, retrying in 2s', reason: 'ArtifactFailed' };
    expect(compareWithAudit(audit, [waiting])[0]!.accepted).toContain('GitRepository flux-system/home-ops-private');
    const [otherFailure] = compareWithAudit(audit, [failed('d/private', 'ConfigMap/d/x dry-run failed: invalid')]);
    expect(otherFailure).toMatchObject({ agreed: false });
    expect(otherFailure!.accepted).toBeUndefined();
  });
});

describe('waitsForSource', () => {
  it('is kustomize-controller waiting for a source or its artifact, not a failure of the tree', () => {
    const condition = (reason: string, message: string) => ({ type: 'Ready', status: 'False', reason, message });
    expect(waitsForSource(condition('ArtifactFailed', 'Source artifact not found, retrying in 2s'))).toBe(true);
    expect(waitsForSource(condition('ArtifactFailed', 'Source is not ready, artifact not found, retrying in 2s'))).toBe(true);
    expect(waitsForSource(condition('ArtifactFailed', "unable to get source 'flux-system/home-ops-private': gitrepositories.source.toolkit.fluxcd.io \"home-ops-private\" not found"))).toBe(true);
    // The API server's NotFound as v1.9.6 keeps it when the Kustomization was read before its source existed (CI, stop 40).
    expect(waitsForSource(condition('ArtifactFailed', 'GitRepository.source.toolkit.fluxcd.io "vendor-config" not found'))).toBe(true);
    expect(waitsForSource(condition('ArtifactFailed', 'kustomization path not found: stat /tmp/x/kubernetes/nope: no such file or directory'))).toBe(false);
    expect(waitsForSource(condition('BuildFailed', 'Source artifact not found'))).toBe(false);
  });
});
