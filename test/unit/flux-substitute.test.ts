import { describe, expect, it } from 'vitest';
import { resolveSubstitutions, secretPlaceholder, type VariableSources } from '../../tasks/lib/gitops/flux-substitute.ts';

const settings = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-settings', namespace: 'apps' }, data: { TIMEZONE: 'Europe/Berlin', CLUSTER: 'home\n' } };
const secrets = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cluster-secrets', namespace: 'apps' }, stringData: { SECRET_DOMAIN: 'ENC[AES256_GCM,data:…]' } };

const sources = (prereq?: string[]): VariableSources => ({
  find: (kind, namespace, name) => [settings, secrets].find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name),
  prerequisiteKeys: () => prereq,
});

const ks = (postBuild: unknown) => ({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'echo', namespace: 'apps' }, spec: { path: './x', postBuild } });

describe('resolveSubstitutions', () => {
  it('folds substituteFrom into substitute in Flux’s order, inline last; Secret values are placeholders, never read', () => {
    const { object, unresolved } = resolveSubstitutions(
      ks({ substitute: { TIMEZONE: 'UTC', APP: 'echo' }, substituteFrom: [{ kind: 'ConfigMap', name: 'cluster-settings' }, { kind: 'Secret', name: 'cluster-secrets' }] }),
      sources(),
    );
    expect(unresolved).toEqual([]);
    expect((object['spec'] as { postBuild: unknown }).postBuild).toEqual({
      substitute: { TIMEZONE: 'UTC', CLUSTER: 'home', SECRET_DOMAIN: secretPlaceholder('SECRET_DOMAIN'), APP: 'echo' },
    });
    expect(JSON.stringify(object)).not.toContain('ENC[');
  });

  it('names a missing source unless it is optional; a Secret made by prereqs gives its keys', () => {
    expect(resolveSubstitutions(ks({ substituteFrom: [{ kind: 'Secret', name: 'gone' }] }), sources()).unresolved).toEqual(['Secret/gone in apps']);
    expect(resolveSubstitutions(ks({ substituteFrom: [{ kind: 'Secret', name: 'gone', optional: true }] }), sources()).unresolved).toEqual([]);
    const fromPrereqs = resolveSubstitutions(ks({ substituteFrom: [{ kind: 'Secret', name: 'token' }] }), sources(['TOKEN']));
    expect((fromPrereqs.object['spec'] as { postBuild: { substitute: unknown } }).postBuild.substitute).toEqual({ TOKEN: 'placeholder-token' });
  });

  it('leaves a Kustomization without postBuild as it is (Flux substitutes nothing then)', () => {
    const plain = { ...ks(undefined), spec: { path: './x' } };
    expect(resolveSubstitutions(plain, sources()).object).toBe(plain);
  });
});
