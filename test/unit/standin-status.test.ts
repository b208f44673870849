import { describe, expect, it } from 'vitest';
import { ApiException, type Kube } from '../../tasks/lib/cluster/kube.ts';
import { writeStandinStatus } from '../../tasks/lib/rehearsal/standin-status.ts';

type Body = { metadata: { resourceVersion: string; generation: number }; status: { observedGeneration: number } };

/** A client whose status writes fail as the API server's do, in order; reads return `live`. */
function fakeKube(failures: Array<ApiException<unknown>>, live: { resourceVersion: string; generation: number }) {
  const writes: Body[] = [];
  const kube = {
    customObjects: {
      replaceNamespacedCustomObjectStatus: async ({ body }: { body: Body }) => {
        writes.push(body);
        const failure = failures.shift();
        if (failure) throw failure;
        return body;
      },
      getNamespacedCustomObject: async () => ({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'spegel', namespace: 'kube-system', ...live } }),
    },
  } as unknown as Kube;
  return { kube, writes };
}

const release = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'spegel', namespace: 'kube-system', resourceVersion: '10', generation: 1 } };
const ready = [{ type: 'Ready', status: 'True' as const, reason: 'InstallSucceeded', message: 'installed' }];
const conflict = () => new ApiException(409, 'Conflict', { kind: 'Status', message: 'the object has been modified; please apply your changes to the latest version and try again' }, {});

describe('writeStandinStatus', () => {
  it('a write that lost a race is made again over the object as it is now, for the same generation', async () => {
    const { kube, writes } = fakeKube([conflict()], { resourceVersion: '11', generation: 1 });
    await writeStandinStatus(kube, release, 'helmreleases', ready);
    expect(writes.map((w) => [w.metadata.resourceVersion, w.status.observedGeneration])).toEqual([['10', 1], ['11', 1]]);
  });

  it('a new generation came meanwhile: not written over (the stand-in sees it on its next look)', async () => {
    const { kube, writes } = fakeKube([conflict()], { resourceVersion: '12', generation: 2 });
    await writeStandinStatus(kube, release, 'helmreleases', ready);
    expect(writes).toHaveLength(1);
  });

  it("any other failure is the server's own message with its code, not the client's headers", async () => {
    const { kube } = fakeKube([new ApiException(500, 'Internal', { kind: 'Status', message: 'etcdserver: request timed out' }, { 'audit-id': 'x' })], { resourceVersion: '10', generation: 1 });
    const error = await writeStandinStatus(kube, release, 'helmreleases', ready).catch((e: unknown) => e);
    expect(error).toMatchObject({ problem: 'status write failed: etcdserver: request timed out (HTTP 500)', subject: 'HelmRelease kube-system/spegel' });
  });
});
