// Whether a release is whole: its manifest read as objects where Helm puts them, and which of
// them the cluster lacks, read through aggregated discovery and metadata-only lists (a fake
// ApiReader answers those GETs, as the API server would).
import { describe, expect, it } from 'vitest';
import type { ApiReader } from '../../tasks/lib/cluster/api-reader.ts';
import { HttpStatusError } from '../../tasks/lib/cluster/api-reader.ts';
import { absentObjects, formatRef, parseRef } from '../../tasks/lib/cluster/object-presence.ts';
import { absentText, incompleteReleases, releaseObjectRefs } from '../../tasks/lib/core/release-presence.ts';
import { parseManifests } from '../../tasks/lib/runtime/manifests.ts';

const manifest = parseManifests(
  `---
# Source: cert-manager/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: cert-manager
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cert-manager-controller
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cert-manager
  namespace: cert-manager
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shared-settings
  namespace: other
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate-once
spec:
  ttlSecondsAfterFinished: 100
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
`,
  'helm release cert-manager',
);

/** An API server holding `objects` ("group/Kind/namespace/name"), serving the listed resources. */
function fakeServer(objects: string[], served = ['', 'apps', 'rbac.authorization.k8s.io', 'batch']): ApiReader & { paths: string[] } {
  const resources: Record<string, Array<{ resource: string; kind: string; scope: 'Namespaced' | 'Cluster' }>> = {
    '': [
      { resource: 'serviceaccounts', kind: 'ServiceAccount', scope: 'Namespaced' },
      { resource: 'configmaps', kind: 'ConfigMap', scope: 'Namespaced' },
      { resource: 'namespaces', kind: 'Namespace', scope: 'Cluster' },
    ],
    apps: [{ resource: 'deployments', kind: 'Deployment', scope: 'Namespaced' }],
    'rbac.authorization.k8s.io': [{ resource: 'clusterroles', kind: 'ClusterRole', scope: 'Cluster' }],
    batch: [{ resource: 'jobs', kind: 'Job', scope: 'Namespaced' }],
    'cert-manager.io': [{ resource: 'clusterissuers', kind: 'ClusterIssuer', scope: 'Cluster' }],
  };
  const versions: Record<string, string> = { '': 'v1', apps: 'v1', 'rbac.authorization.k8s.io': 'v1', batch: 'v1', 'cert-manager.io': 'v1' };
  const paths: string[] = [];
  const group = (name: string) => ({
    metadata: { name },
    versions: [{ version: versions[name], resources: resources[name]!.map((r) => ({ resource: r.resource, responseKind: { kind: r.kind }, scope: r.scope, verbs: ['get', 'list'] })) }],
  });
  return {
    context: 'fake',
    server: 'https://127.0.0.1:1',
    paths,
    async getJson(apiPath: string) {
      paths.push(apiPath);
      if (apiPath === '/api') return { kind: 'APIGroupDiscoveryList', items: served.includes('') ? [group('')] : [] };
      if (apiPath === '/apis') return { kind: 'APIGroupDiscoveryList', items: served.filter((g) => g).map(group) };
      const m = /^\/apis?\/(?:([^/]+)\/)?v1(?:\/namespaces\/([^/]+))?\/([^/?]+)\?/.exec(apiPath);
      if (!m) throw new HttpStatusError(404, apiPath);
      const [, g = '', namespace, resource] = m;
      const kind = resources[g]?.find((r) => r.resource === resource)?.kind;
      const items = objects
        .map((o) => o.split('/'))
        .filter(([og, ok, ons]) => og === g && ok === kind && (namespace === undefined || ons === namespace))
        .map(([, , ons, name]) => ({ metadata: { name, ...(ons ? { namespace: ons } : {}) } }));
      return { items };
    },
  };
}

const everything = ['/ServiceAccount/cert-manager/cert-manager', 'rbac.authorization.k8s.io/ClusterRole//cert-manager-controller', 'apps/Deployment/cert-manager/cert-manager', '/ConfigMap/other/shared-settings', 'cert-manager.io/ClusterIssuer//letsencrypt'];

describe('the objects of a release manifest', () => {
  it('places each where Helm does (the release namespace when the chart names none) and leaves out a Job that deletes itself', () => {
    expect(releaseObjectRefs(manifest, 'cert-manager').map(formatRef)).toEqual([
      'v1 ServiceAccount cert-manager/cert-manager',
      'rbac.authorization.k8s.io/v1 ClusterRole cert-manager/cert-manager-controller',
      'apps/v1 Deployment cert-manager/cert-manager',
      'v1 ConfigMap other/shared-settings',
      'cert-manager.io/v1 ClusterIssuer cert-manager/letsencrypt',
    ]);
  });

  it('a stored ref reads back as itself; a malformed one is refused', () => {
    for (const ref of releaseObjectRefs(manifest, 'cert-manager')) expect(parseRef(formatRef(ref))).toEqual(ref);
    expect(parseRef('apps/v1 Deployment no-namespace-slash')).toBeUndefined();
    expect(parseRef('apps/v1 Deployment a/b extra')).toBeUndefined();
  });
});

describe('which objects are absent', () => {
  const refs = releaseObjectRefs(manifest, 'cert-manager');

  it('none when the cluster has them all; a cluster-scoped object is found whatever namespace the ref carries', async () => {
    const server = fakeServer(everything, ['', 'apps', 'rbac.authorization.k8s.io', 'batch', 'cert-manager.io']);
    expect(await absentObjects(server, refs)).toEqual([]);
    // Two discovery requests, then one list per resource and namespace: never a GET per object.
    expect(server.paths.slice(2).sort()).toEqual([
      '/api/v1/namespaces/cert-manager/serviceaccounts?limit=500',
      '/api/v1/namespaces/other/configmaps?limit=500',
      '/apis/apps/v1/namespaces/cert-manager/deployments?limit=500',
      '/apis/cert-manager.io/v1/clusterissuers?limit=500',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles?limit=500',
    ]);
  });

  it('names each missing object by its real scope, and an object whose kind the cluster no longer serves', async () => {
    const server = fakeServer(everything.filter((o) => !o.startsWith('apps/') && !o.startsWith('rbac')));
    const absent = await absentObjects(server, refs);
    expect(absent.map((a) => [a.text, a.unserved])).toEqual([
      ['ClusterRole cert-manager-controller', false],
      ['Deployment cert-manager/cert-manager', false],
      ['ClusterIssuer cert-manager/letsencrypt', true],
    ]);
    expect(absentText(absent)).toBe('ClusterRole cert-manager-controller, Deployment cert-manager/cert-manager, ClusterIssuer cert-manager/letsencrypt (its kind is not served: CRD gone?)');
  });

  it('splits what is absent by release, and leaves whole releases out', async () => {
    const coredns = { namespace: 'kube-system', name: 'coredns', objects: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'coredns' }] };
    const certManager = { namespace: 'cert-manager', name: 'cert-manager', objects: refs.slice(0, 3) };
    const server = fakeServer([...everything.filter((o) => !o.startsWith('apps/')), '/ConfigMap/kube-system/coredns']);
    const gaps = await incompleteReleases(server, [coredns, certManager]);
    expect(gaps.map((g) => [g.name, absentText(g.absent)])).toEqual([['cert-manager', 'Deployment cert-manager/cert-manager']]);
  });
});
