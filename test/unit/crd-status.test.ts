// E8: a CRD is ready only when Established, NamesAccepted and served by discovery. The API is
// faked here (pure logic); the e2e suite runs the same code against real API servers.
import { describe, expect, it } from 'vitest';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { crdServingStates } from '../../tasks/lib/crds/crd-status.ts';
import { ApiException, type Kube } from '../../tasks/lib/cluster/kube.ts';

const crd = (plural: string, versions = ['v1']): Crd => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.example.io` },
  spec: {
    group: 'example.io',
    scope: 'Namespaced',
    names: { kind: plural, plural },
    versions: versions.map((name, i) => ({ name, served: true, storage: i === 0 })),
  },
});

const established = (c: Crd) => ({
  ...c,
  status: { conditions: [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }] },
});

function fakeKube(live: object[], served: Record<string, string[] | null>): Kube {
  return {
    customObjects: {
      listClusterCustomObject: async ({ plural }: { plural: string }) => ({ items: plural === 'customresourcedefinitions' ? live : [] }),
      getAPIResources: async ({ group, version }: { group: string; version: string }) => {
        const names = served[`${group}/${version}`];
        if (names === undefined) throw new ApiException(404, 'Not Found', '{}', {});
        if (names === null) throw new ApiException(503, 'Service Unavailable', '{"message":"the server is currently unable to handle the request"}', {});
        return { resources: names.map((name) => ({ name })) };
      },
    },
  } as unknown as Kube;
}

describe('crdServingStates', () => {
  it('needs every served version of every CRD in discovery, not just Established', async () => {
    const bundle = [crd('widgets', ['v1', 'v2']), crd('gadgets'), crd('gizmos')];
    const kube = fakeKube([established(bundle[0]!), established(bundle[1]!), { ...bundle[2], status: {} }], {
      'example.io/v1': ['widgets', 'gadgets'],
    });
    const states = await crdServingStates(kube, bundle);
    expect(Object.fromEntries(states)).toEqual({
      'widgets.example.io': { ready: false, reason: 'Established, but discovery does not serve widgets in v2 yet' },
      'gadgets.example.io': { ready: true, reason: 'Established and served' },
      'gizmos.example.io': { ready: false, reason: 'no NamesAccepted condition yet' },
    });
  });

  it('reports a CRD missing from the cluster', async () => {
    const states = await crdServingStates(fakeKube([], {}), [crd('widgets')]);
    expect(states.get('widgets.example.io')).toEqual({ ready: false, reason: 'not found in the cluster' });
  });

  it('treats only a 404 from discovery as "not served yet"; any other failure is an error', async () => {
    const kube = fakeKube([established(crd('widgets'))], { 'example.io/v1': null });
    await expect(crdServingStates(kube, [crd('widgets')])).rejects.toThrow(
      'discovery of example.io/v1: read failed: the server is currently unable to handle the request (HTTP 503)',
    );
  });
});
