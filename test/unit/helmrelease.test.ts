// One reading of a HelmRelease (tasks/lib/gitops/helmrelease.ts) for the audit and the rehearsal's
// helm-controller stand-in. Each case below is one where the two read the same YAML differently
// before, so the rehearsal could not judge the audit; helmReleasesOf is the audit's path.
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import { helmReleasesOf, toolSaid } from '../../tasks/lib/gitops/helmrelease-crds.ts';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { resolveHelmRelease, shortenReleaseName, type Lookup } from '../../tasks/lib/gitops/helmrelease.ts';

const ocirepo = (name: string, ref: Record<string, string>): KubernetesObject =>
  ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { name, namespace: 'cert-manager' }, spec: { url: 'oci://quay.io/jetstack/charts/cert-manager', ref } }) as KubernetesObject;
const helmRelease = (spec: Record<string, unknown>): KubernetesObject =>
  ({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'cert-manager', namespace: 'cert-manager' }, spec }) as KubernetesObject;
const secret = (name: string, data: Record<string, string>): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'cert-manager' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }) as KubernetesObject;
const configMap = (name: string, data: Record<string, string>): KubernetesObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'cert-manager' }, data }) as KubernetesObject;

const lookupOf = (objects: KubernetesObject[]): Lookup => (kind, namespace, name) =>
  objects.find((o) => o.kind === kind && o.metadata?.namespace === namespace && o.metadata?.name === name) as ReturnType<Lookup>;

/** The audit's reading: the objects in one Kustomization of the tree. */
const audited = (objects: KubernetesObject[]) => {
  const k = { id: 'cert-manager/cert-manager', objects: objects.map((object) => ({ object, file: `apps/${object.kind}.yaml` })) } as unknown as FluxKustomization;
  return helmReleasesOf([k])[0]!;
};

const chartRef = { chartRef: { kind: 'OCIRepository', name: 'cert-manager' } };

describe('one reading of a HelmRelease', () => {
  it('takes values from a Secret as from a ConfigMap, in order, valuesKey and targetPath included, then spec.values on top', () => {
    const objects = [
      ocirepo('cert-manager', { tag: 'v1.21.1' }),
      configMap('base', { 'values.yaml': 'replicaCount: 1\ncrds:\n  enabled: false\n' }),
      secret('dns', { 'override.yaml': 'crds:\n  enabled: true\n  keep: true\n' }),
      secret('token', { token: 'true' }),
      helmRelease({
        ...chartRef,
        valuesFrom: [
          { kind: 'ConfigMap', name: 'base' },
          { kind: 'Secret', name: 'dns', valuesKey: 'override.yaml' },
          { kind: 'Secret', name: 'token', valuesKey: 'token', targetPath: 'webhook.hostNetwork' },
        ],
        values: { replicaCount: 2 },
      }),
    ];
    const values = { replicaCount: 2, crds: { enabled: true, keep: true }, webhook: { hostNetwork: true } };
    expect(resolveHelmRelease(objects.at(-1)!, lookupOf(objects)).values).toEqual(values);
    // The audit read ConfigMaps only: it rendered cert-manager with crds.enabled false.
    expect(audited(objects).values).toEqual(values);
  });

  it('names a valuesFrom that is not there (unless optional), or SOPS-encrypted, instead of silently leaving it out', () => {
    const encrypted = { ...secret('sops', { 'values.yaml': 'ENC[AES256_GCM,data:…]' }), sops: { version: '3.9' } } as KubernetesObject;
    const objects = [
      ocirepo('cert-manager', { tag: 'v1.21.1' }),
      encrypted,
      helmRelease({ ...chartRef, valuesFrom: [{ kind: 'Secret', name: 'absent' }, { kind: 'ConfigMap', name: 'maybe', optional: true }, { kind: 'Secret', name: 'sops' }] }),
    ];
    expect(audited(objects).missingValues).toEqual(['Secret cert-manager/absent key values.yaml', 'Secret cert-manager/sops key values.yaml (SOPS-encrypted)']);
  });

  it('takes a chart.spec without a version as "*", the newest tag, as HelmChart defaults it', () => {
    const repo = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmRepository', metadata: { name: 'jetstack', namespace: 'cert-manager' }, spec: { type: 'oci', url: 'oci://quay.io/jetstack/charts/' } } as KubernetesObject;
    const objects = [repo, helmRelease({ chart: { spec: { chart: 'cert-manager', sourceRef: { kind: 'HelmRepository', name: 'jetstack' } } } })];
    expect(audited(objects).chart).toEqual({ url: 'oci://quay.io/jetstack/charts/cert-manager', version: '*', file: 'apps/HelmRepository.yaml' });
  });

  it('pulls a tag pinned beside a digest (the digest noted, not verified offline); a digest alone stays unresolved', () => {
    const both = [ocirepo('cert-manager', { tag: 'v1.21.1', digest: 'sha256:abc' }), helmRelease(chartRef)];
    expect(resolveHelmRelease(both[1]!, lookupOf(both)).chart).toMatchObject({ url: 'oci://quay.io/jetstack/charts/cert-manager', version: 'v1.21.1', digest: 'sha256:abc' });
    expect(audited(both).chart).toEqual({ url: 'oci://quay.io/jetstack/charts/cert-manager', version: 'v1.21.1', file: 'apps/OCIRepository.yaml' });
    const digestOnly = [ocirepo('cert-manager', { digest: 'sha256:abc' }), helmRelease(chartRef)];
    expect(audited(digestOnly).chart).toEqual({ unresolved: 'OCIRepository cert-manager/cert-manager pins only a digest (ref.digest), which only Flux resolves' });
  });

  it('names the release as helm-controller does: releaseName, else [targetNamespace-]name, shortened past 53 characters', () => {
    const objects = [ocirepo('cert-manager', { tag: 'v1.21.1' })];
    const of = (spec: Record<string, unknown>) => resolveHelmRelease(helmRelease({ ...chartRef, ...spec }), lookupOf(objects));
    expect(of({})).toMatchObject({ releaseName: 'cert-manager', targetNamespace: 'cert-manager', storageNamespace: 'cert-manager' });
    expect(of({ targetNamespace: 'security' })).toMatchObject({ releaseName: 'security-cert-manager', targetNamespace: 'security', storageNamespace: 'cert-manager' });
    expect(of({ releaseName: 'cm', targetNamespace: 'security' }).releaseName).toBe('cm');
    const long = 'a-very-long-target-namespace-for-the-platform-team';
    const name = of({ targetNamespace: long }).releaseName;
    expect(name).toBe(shortenReleaseName(`${long}-cert-manager`));
    expect(name).toHaveLength(53);
    expect(name).toMatch(/^a-very-long-target-namespace-for-the-pla-[0-9a-f]{12}$/);
  });

  it('reads the CRD policies and install options with Flux’s defaults', () => {
    const objects = [ocirepo('cert-manager', { tag: 'v1.21.1' })];
    expect(resolveHelmRelease(helmRelease(chartRef), lookupOf(objects))).toMatchObject({
      install: { crds: 'Create', createNamespace: false, disableWait: false, disableTakeOwnership: false },
      upgrade: { crds: 'Skip' },
      timeout: '5m',
    });
    const set = resolveHelmRelease(helmRelease({ ...chartRef, install: { crds: 'CreateReplace', createNamespace: true }, upgrade: { crds: 'CreateReplace' }, dependsOn: [{ name: 'x' }] }), lookupOf(objects));
    expect(set).toMatchObject({ install: { crds: 'CreateReplace', createNamespace: true }, upgrade: { crds: 'CreateReplace' }, dependsOn: [{ namespace: 'cert-manager', name: 'x' }] });
  });
});

describe('toolSaid', () => {
  it('keeps helm\'s own error line of a failed render, not the advice after it', () => {
    const problem = 'exited 1:\nError: execution error at (cilium/templates/validate.yaml:4:4): Service Monitor requires monitoring.coreos.com/v1 CRDs.\n\nUse --debug flag to render out invalid YAML\n(full output: dist/logs/x.log)';
    expect(toolSaid(new BootstrapError({ subject: 'helm', problem, fix: 'f' }))).toBe('execution error at (cilium/templates/validate.yaml:4:4): Service Monitor requires monitoring.coreos.com/v1 CRDs.');
    expect(toolSaid(new BootstrapError({ subject: 'helm', problem: 'exited 1:\nconnection refused', fix: 'f' }))).toBe('connection refused');
  });
});
