import { describe, expect, it } from 'vitest';
import { dryRunFirstLayer, firstLayerObjects } from '../../tasks/lib/gitops/gitops-dry-run.ts';
import type { FluxKustomization, FluxTree } from '../../tasks/lib/gitops/flux-tree.ts';
import { ApiException, type Kube } from '../../tasks/lib/cluster/kube.ts';

const webhookDown = () =>
  new ApiException(500, 'Internal error', JSON.stringify({ message: 'Internal error occurred: failed calling webhook "webhook.cert-manager.io": dial tcp 127.64.0.9:443: connect: connection refused' }), {});
const invalid = () => new ApiException(422, 'Invalid', JSON.stringify({ message: 'ClusterIssuer.cert-manager.io "x" is invalid: spec.acme.server: Required value' }), {});

/** A Kube whose patch fails with the given errors in order, then accepts; every namespace exists. */
function fakeKube(errors: Array<() => Error>): { kube: Kube; calls: () => number } {
  let calls = 0;
  const kube = {
    objects: {
      patch: async (object: unknown) => {
        const error = errors[calls++];
        if (error) throw error();
        return object;
      },
      read: async (object: unknown) => object,
    },
  } as unknown as Kube;
  return { kube, calls: () => calls };
}

const issuer = { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'x' } };
const first = { objects: [{ file: 'apps/issuer.yaml', object: issuer }], skipped: {} };

describe('dryRunFirstLayer', () => {
  it('retries a webhook that is still starting, within the timeout', async () => {
    const { kube, calls } = fakeKube([webhookDown, webhookDown]);
    const outcome = await dryRunFirstLayer(kube, first, 10_000);
    expect(outcome).toMatchObject({ accepted: 1, rejected: [] });
    expect(calls()).toBe(3);
  });

  it('reports a rejection at once, with the API server’s message and the file', async () => {
    const { kube, calls } = fakeKube([invalid]);
    const outcome = await dryRunFirstLayer(kube, first, 10_000);
    expect(outcome.rejected).toEqual([
      { file: 'apps/issuer.yaml', object: 'ClusterIssuer x', message: expect.stringContaining('spec.acme.server: Required value') },
    ]);
    expect(calls()).toBe(1);
  });

  it('gives up on a webhook that stays down once the timeout has passed', async () => {
    const { kube } = fakeKube(Array.from({ length: 50 }, () => webhookDown));
    const outcome = await dryRunFirstLayer(kube, first, 0);
    expect(outcome.rejected[0]!.message).toContain('failed calling webhook "webhook.cert-manager.io"');
  });
});

describe('firstLayerObjects', () => {
  const ks = (id: string, over: Partial<FluxKustomization>): FluxKustomization => ({
    id, name: id, namespace: 'x', path: '.', file: 'ks.yaml', dependsOn: [], wait: false, healthChecks: [], objects: [], unresolved: [], ...over,
  });
  it('sends only Kustomizations without dependsOn, kinds the bootstrap serves, and never a SOPS-encrypted Secret', () => {
    const o = (apiVersion: string, kind: string, extra = {}) => ({ file: `${kind}.yaml`, object: { apiVersion, kind, metadata: { name: 'n' }, ...extra } });
    const tree: FluxTree = {
      kustomizations: [
        ks('a', { objects: [o('v1', 'ConfigMap'), o('v1', 'Secret', { sops: { mac: 'x' } }), o('helm.toolkit.fluxcd.io/v2', 'HelmRelease')] }),
        ks('b', { dependsOn: ['x/a'], objects: [o('v1', 'ConfigMap')] }),
      ],
      files: { applied: [], buildInputs: [], unreferenced: [] },
    };
    const { objects, skipped } = firstLayerObjects(tree, new Set(['v1 ConfigMap', 'v1 Secret']), []);
    expect(objects.map((x) => x.file)).toEqual(['ConfigMap.yaml']);
    expect(skipped).toEqual({
      'SOPS-encrypted Secret (Flux decrypts it)': 1,
      'of a kind served later (by an operator or a HelmRelease)': 1,
      'in a later layer (after a dependsOn)': 1,
    });
  });
});
