// What each phase's proof covers (tasks/lib/cluster/live-proof.ts): a write to an object a phase
// reads changes its fingerprint, a write elsewhere does not, so a later phase's writes never void
// an earlier phase's proof, and an operator updating a custom resource's status is no change to core.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LiveEntry } from '../../tasks/lib/cluster/live-listing.ts';
import { fingerprint, proofOf, readsetOf, secretsInSync } from '../../tasks/lib/cluster/live-proof.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';
import type { ApiReader } from '../../tasks/lib/cluster/api-reader.ts';
import { loadCluster } from '../../tasks/lib/model/config.ts';

const apps = await loadCluster('apps');
const entry = (group: string, kind: string, namespace: string, name: string, resourceVersion = '1', labels: Record<string, string> = {}): LiveEntry => ({
  group,
  kind,
  namespace,
  name,
  uid: `uid-${kind}-${namespace}-${name}`,
  resourceVersion,
  labels,
});

const cluster = [
  entry('', 'Namespace', '', 'kube-system'),
  entry('', 'Namespace', '', 'flux-system'),
  entry('', 'Namespace', '', 'not-declared'),
  entry('', 'Secret', 'external-secrets', 'external-secrets-token'),
  entry('', 'Secret', 'flux-system', 'sh.helm.release.v1.flux-operator.v1', '1', { owner: 'helm' }),
  entry('', 'ConfigMap', 'kube-system', 'cluster-bootstrap-core'),
  entry('apiextensions.k8s.io', 'CustomResourceDefinition', '', 'fluxinstances.fluxcd.controlplane.io'),
  entry('fluxcd.controlplane.io', 'FluxInstance', 'flux-system', 'flux'),
  { ...entry('apps', 'Deployment', 'flux-system', 'flux-operator'), release: 'flux-system/flux-operator' },
  entry('apps', 'ReplicaSet', 'flux-system', 'flux-operator-5d8f'),
];

/** The cluster with one object written (its resourceVersion moved on). */
const written = (kind: string, name: string) => cluster.map((e) => (e.kind === kind && e.name === name ? { ...e, resourceVersion: '2' } : e));
const print = async (phase: 'prereqs' | 'crds' | 'core' | 'verify', entries: LiveEntry[]) => fingerprint(await readsetOf(phase, apps, entries));

describe('live proofs', () => {
  it('prereqs covers its namespaces and secrets, not a namespace it does not declare nor what helm writes', async () => {
    expect(await print('prereqs', written('Secret', 'external-secrets-token'))).not.toBe(await print('prereqs', cluster));
    expect(await print('prereqs', written('Namespace', 'not-declared'))).toBe(await print('prereqs', cluster));
    expect(await print('prereqs', written('Secret', 'sh.helm.release.v1.flux-operator.v1'))).toBe(await print('prereqs', cluster));
  });

  it("of a namespace, prereqs covers its uid and the labels and annotations it declares, not Helm's label nor a write elsewhere", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'live-proof-'));
    await mkdir(path.join(dir, 'prerequisites'));
    await writeFile(
      path.join(dir, 'prerequisites', 'namespaces.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n  labels: { team: platform }\n  annotations: { owner: sre }\n',
    );
    const labelled = { ...apps, dir };
    const namespace = (change: Partial<LiveEntry>) => cluster.map((e) => (e.kind === 'Namespace' && e.name === 'flux-system' ? { ...e, resourceVersion: '2', ...change } : e));
    const base = fingerprint(await readsetOf('prereqs', labelled, namespace({ labels: { team: 'platform' }, annotations: { owner: 'sre' } })));
    const of = async (change: Partial<LiveEntry>) => fingerprint(await readsetOf('prereqs', labelled, namespace(change)));
    expect(await of({ resourceVersion: '3', labels: { team: 'platform', name: 'flux-system' }, annotations: { owner: 'sre' } })).toBe(base);
    expect(await of({ labels: { team: 'apps' }, annotations: { owner: 'sre' } })).not.toBe(base);
    expect(await of({ labels: { team: 'platform' }, annotations: {} })).not.toBe(base);
    expect(await of({ uid: 'recreated', labels: { team: 'platform' }, annotations: { owner: 'sre' } })).not.toBe(base);
  });

  it('crds covers every CRD and nothing else', async () => {
    expect(await print('crds', written('CustomResourceDefinition', 'fluxinstances.fluxcd.controlplane.io'))).not.toBe(await print('crds', cluster));
    expect(await print('crds', written('ConfigMap', 'cluster-bootstrap-core'))).toBe(await print('crds', cluster));
  });

  it("core covers helm's storage and its record, and of the custom resources only which exist", async () => {
    expect(await print('core', written('Secret', 'sh.helm.release.v1.flux-operator.v1'))).not.toBe(await print('core', cluster));
    expect(await print('core', written('ConfigMap', 'cluster-bootstrap-core'))).not.toBe(await print('core', cluster));
    expect(await print('core', written('FluxInstance', 'flux'))).toBe(await print('core', cluster));
    expect(await print('core', cluster.filter((e) => e.kind !== 'FluxInstance'))).not.toBe(await print('core', cluster));
  });

  it('core covers which objects of helm releases exist, by uid: a status write is no change, a deletion or a re-creation is', async () => {
    const base = await print('core', cluster);
    expect(await print('core', written('Deployment', 'flux-operator'))).toBe(base);
    expect(await print('core', cluster.filter((e) => e.kind !== 'Deployment'))).not.toBe(base);
    expect(await print('core', cluster.map((e) => (e.kind === 'Deployment' ? { ...e, uid: 'recreated' } : e)))).not.toBe(base);
    // What a controller makes of them (no Helm annotations) is not core's.
    expect(await print('core', cluster.filter((e) => e.kind !== 'ReplicaSet'))).toBe(base);
  });

  it('verify covers every watched object', async () => {
    for (const e of cluster) expect(await print('verify', written(e.kind, e.name)), `${e.kind} ${e.name}`).not.toBe(await print('verify', cluster));
  });

  it('a proof holds the dist/ files its phase reads: crds and core the bundle, verify the tree too, prereqs none', async () => {
    const bundle = path.join(paths.dist, 'crds', 'apps', 'crds.yaml');
    const tree = path.join(paths.dist, 'gitops', 'apps', 'tree.json');
    const dist = (edits: Record<string, string>) => new Map([[bundle, 'b1'], [tree, 't1'], ...Object.entries(edits)]);
    const proof = (phase: 'prereqs' | 'crds' | 'core' | 'verify', edits: Record<string, string> = {}) => proofOf(phase, apps, cluster, dist(edits));
    for (const phase of ['crds', 'core', 'verify'] as const) expect(await proof(phase, { [bundle]: 'b2' }), phase).not.toBe(await proof(phase));
    expect(await proof('verify', { [tree]: 't2' })).not.toBe(await proof('verify'));
    // gitops-tree may write the tree after crds has ended, in the same run: no part of crds' proof.
    expect(await proof('crds', { [tree]: 't2' })).toBe(await proof('crds'));
    expect(await proof('prereqs', { [bundle]: 'b2', [tree]: 't2' })).toBe(await proof('prereqs'));
  });

  it('a secret is in sync only when its live value is the one its source gives now; the value is compared, never kept', async () => {
    const spec = apps.prerequisites.secrets[0]!;
    const [key, source] = Object.entries(spec.data)[0]!;
    const envName = 'env' in source ? source.env : '';
    const live = (value: string): ApiReader => ({ context: 'test', server: 'https://127.0.0.1:1', getJson: async () => ({ type: spec.type, data: { [key]: Buffer.from(value).toString('base64') } }) });
    expect(await secretsInSync(live('s3cret'), apps, { [envName]: 's3cret' })).toBe(true);
    expect(await secretsInSync(live('s3cret'), apps, { [envName]: 'rotated' })).toBe(false);
    expect(await secretsInSync(live('s3cret'), apps, {})).toBe(false);
  });
});
