// The FluxInstance's sync as the rehearsal reads it from core's render, checked against the tree,
// and the objects flux-operator builds from it (source, root Kustomization, notification CRD patch).
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import { checkSyncAgrees, declaredSync, syncMismatches } from '../../tasks/lib/rehearsal/flux-sync.ts';
import { controllerFlags, OPERATOR_EVENT_KINDS, syncObjects, withOperatorPatches } from '../../tasks/lib/rehearsal/flux-operator-builds.ts';

const cluster = { name: 'infra', file: path.join(workspaceRoot, 'clusters/infra/cluster.yaml'), gitops: { entry: 'kubernetes/flux/cluster', root: '.' } } as unknown as ClusterConfig;
const STATE = path.join(workspaceRoot, 'helmfile.d/01-core.yaml.gotmpl');
const instance = (sync?: Record<string, string>): KubernetesObject => ({ apiVersion: 'fluxcd.controlplane.io/v1', kind: 'FluxInstance', metadata: { name: 'flux', namespace: 'flux-system' }, spec: { ...(sync ? { sync } : {}) } } as KubernetesObject);
const GIT = { kind: 'GitRepository', url: 'https://github.com/example/home-ops', ref: 'refs/heads/main', path: 'kubernetes/flux/cluster' };
const rendered = (...objects: KubernetesObject[]) => new Map([['flux-instance', objects], ['cilium', [{ kind: 'DaemonSet', metadata: { name: 'cilium' } }]]]);
const namespaces = new Map([['flux-instance', 'flux-system']]);
const read = (objects: Map<string, KubernetesObject[]>) => () => declaredSync(objects, namespaces, cluster, STATE);

describe('declaredSync', () => {
  it('reads the one FluxInstance: kind, url, ref, path; source and Kustomization named after its namespace unless sync.name', () => {
    expect(read(rendered(instance({ ...GIT, path: './kubernetes/flux/cluster/' })))()).toEqual({
      instance: 'flux-system/flux', release: 'flux-instance', kind: 'GitRepository', name: 'flux-system', namespace: 'flux-system',
      url: GIT.url, ref: 'refs/heads/main', path: 'kubernetes/flux/cluster', interval: '1m', patches: [],
    });
    expect(read(rendered(instance({ ...GIT, name: 'home-ops' })))().name).toBe('home-ops');
  });

  it('refuses what would sync nothing, naming the state file and the fix', () => {
    expect(read(rendered())).toThrow('helmfile.d/01-core.yaml.gotmpl: renders no FluxInstance: nothing on the cluster would sync the tree');
    expect(read(rendered(instance(), instance()))).toThrow('renders 2 FluxInstances');
    expect(read(rendered(instance()))).toThrow(/FluxInstance flux-system\/flux \(release flux-instance in helmfile.d\/01-core.yaml.gotmpl\): has no spec.sync[^]*fix: set instance.sync/);
  });

  it('refuses a Bucket sync, which the rehearsal cannot serve', () => {
    expect(read(rendered(instance({ ...GIT, kind: 'Bucket' })))).toThrow(/syncs a Bucket: the rehearsal serves the tree as a GitRepository \(git over HTTP\) or an OCIRepository/);
  });

  it('refuses a sync path other than gitops.entry, naming both', () => {
    expect(read(rendered(instance({ ...GIT, path: 'clusters/main' })))).toThrow(/syncs path clusters\/main, but clusters\/infra\/cluster.yaml says gitops.entry: kubernetes\/flux\/cluster/);
  });
});

describe('the tree against the sync', () => {
  const ks = (id: string, file: string, appliedBy?: string, objects: KubernetesObject[] = []): FluxKustomization =>
    ({ id, name: id.split('/')[1]!, namespace: id.split('/')[0]!, path: '', file, appliedBy, dependsOn: [], wait: false, healthChecks: [], unresolved: [], objects: objects.map((object) => ({ object, file })) }) as FluxKustomization;
  const child = (name: string, kind: string) => ({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name, namespace: 'flux-system' }, spec: { sourceRef: { kind, name: 'flux-system' } } }) as KubernetesObject;
  const tree = (kind: string) => [ks('flux-system/flux-system', 'kubernetes/flux/cluster', undefined, [child('cluster-apps', kind)]), ks('flux-system/cluster-apps', 'kubernetes/flux/cluster/ks.yaml', 'flux-system/flux-system')];
  const sync = declaredSync(rendered(instance(GIT)), namespaces, cluster, STATE);

  it('agrees when every Kustomization names the synced kind', () => {
    expect(syncMismatches(sync, tree('GitRepository'))).toEqual([]);
    expect(() => checkSyncAgrees(sync, tree('GitRepository'), STATE)).not.toThrow();
  });

  it('names each Kustomization that expects another kind, with its file, and the FluxInstance', () => {
    expect(syncMismatches(sync, tree('OCIRepository'))).toEqual([
      'Kustomization flux-system/cluster-apps (kubernetes/flux/cluster/ks.yaml) names OCIRepository flux-system/flux-system, but the FluxInstance flux-system/flux creates GitRepository flux-system/flux-system',
    ]);
    expect(() => checkSyncAgrees(sync, tree('OCIRepository'), STATE)).toThrow(/the synced source \(release flux-instance in helmfile.d\/01-core.yaml.gotmpl\): the tree names another source[^]*fix: make them agree/);
  });
});

describe('what flux-operator builds', () => {
  const sync = declaredSync(rendered(instance(GIT)), namespaces, cluster, STATE);

  it('a GitRepository with ref.name and a root Kustomization as flux-operator\'s sync template', () => {
    const [source, root] = syncObjects(sync, 'http://127.0.0.1:4000/flux-system.git', { 'rehearsal.cluster-bootstrap.io/source': 'true' }) as Array<KubernetesObject & { spec: Record<string, unknown> }>;
    expect(source).toMatchObject({ kind: 'GitRepository', metadata: { name: 'flux-system', namespace: 'flux-system', labels: { 'rehearsal.cluster-bootstrap.io/source': 'true' } }, spec: { url: 'http://127.0.0.1:4000/flux-system.git', ref: { name: 'refs/heads/main' }, interval: '1m' } });
    expect(root!.spec).toEqual({ interval: '10m0s', path: 'kubernetes/flux/cluster', prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } });
  });

  it('an OCIRepository by tag', () => {
    const oci = declaredSync(rendered(instance({ ...GIT, kind: 'OCIRepository', url: 'oci://ghcr.io/example/home-ops', ref: 'latest' })), namespaces, cluster, STATE);
    const [source] = syncObjects(oci, 'oci://127.0.0.1:4001/tree', {}) as Array<KubernetesObject & { spec: Record<string, unknown> }>;
    expect(source!.spec).toMatchObject({ url: 'oci://127.0.0.1:4001/tree', ref: { tag: 'latest' }, insecure: true });
  });

  it('patches the Alert and Receiver CRDs of every version to accept FluxInstance, ResourceSet, ResourceSetInputProvider; nothing else', () => {
    const version = (name: string, field: string) => ({ name, schema: { openAPIV3Schema: { properties: { spec: { properties: { [field]: { items: { properties: { kind: { enum: ['Bucket', 'HelmRelease'] } } } } } } } } } });
    const crd = (name: string, field: string) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name }, spec: { versions: [version('v1beta2', field), version('v1beta3', field)] } }) as unknown as Crd;
    const alert = crd('alerts.notification.toolkit.fluxcd.io', 'eventSources');
    const other = crd('kustomizations.kustomize.toolkit.fluxcd.io', 'eventSources');
    const [patched, receiver, untouched] = withOperatorPatches([alert, crd('receivers.notification.toolkit.fluxcd.io', 'resources'), other]) as any[];
    for (const v of patched.spec.versions) expect(v.schema.openAPIV3Schema.properties.spec.properties.eventSources.items.properties.kind.enum).toEqual(['Bucket', 'HelmRelease', ...OPERATOR_EVENT_KINDS]);
    expect(receiver.spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.resources.items.properties.kind.enum).toContain('FluxInstance');
    expect(untouched).toBe(other);
    expect((alert as any).spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.eventSources.items.properties.kind.enum).toEqual(['Bucket', 'HelmRelease']);
  });
});

describe("the FluxInstance's kustomize.patches on the host controllers", () => {
  it('takes flags a JSON6902 add appends to the args of the Deployments the target names; lists any other patch as not reproduced', () => {
    const gate = { patch: '- op: add\n  path: /spec/template/spec/containers/0/args/-\n  value: --feature-gates=AdditiveCELDependencyCheck=true\n', target: { kind: 'Deployment', name: '(kustomize-controller|helm-controller)' } };
    const concurrency = { patch: '- op: add\n  path: /spec/template/spec/containers/0/args/-\n  value: --concurrent=10\n', target: { kind: 'Deployment', name: 'source-controller' } };
    const memory = { patch: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kustomize-controller}\nspec: {}\n', target: { kind: 'Deployment', name: 'kustomize-controller' } };
    expect(controllerFlags([gate, concurrency, memory])).toEqual({
      args: { 'kustomize-controller': ['--feature-gates=AdditiveCELDependencyCheck=true'], 'source-controller': ['--concurrent=10'] },
      notReproduced: ['kustomize.patches[2] (Deployment kustomize-controller)'],
    });
    expect(controllerFlags([])).toEqual({ args: {}, notReproduced: [] });
  });

  it('reads them from the FluxInstance', () => {
    const patches = [{ patch: '- op: add\n  path: /x\n  value: y\n', target: { kind: 'Deployment', name: 'helm-controller' } }];
    const object = { ...instance(GIT), spec: { sync: GIT, kustomize: { patches } } } as KubernetesObject;
    expect(declaredSync(rendered(object), namespaces, cluster, STATE).patches).toEqual(patches);
  });
});
