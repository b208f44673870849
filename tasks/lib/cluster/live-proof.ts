// What lets Nx serve a side-effecting phase from its cache without a rebuilt or edited cluster
// ever being skipped. Each phase that ends well records a proof: the fingerprint (every uid and
// resourceVersion) of the objects it reads, taken right after it, under the token Nx hashed it
// with. Before the next run, tasks/live-state.ts lists the cluster again: a phase whose objects
// are exactly as its proof left them gets that token back (same Nx hash: a cache hit); any other
// state gets a token of its own (a miss: the phase runs). The secrets' values are compared in
// memory with their sources and never stored; a secret read from 1Password is never proven.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';
import { CORE_RECORD } from '../model/cluster-records.ts';
import { groupOf, readManifests } from '../runtime/manifests.ts';
import { sha256 } from '../runtime/input-hash.ts';
import { paths } from '../runtime/workspace.ts';
import { entryKey, listLive, type LiveEntry } from './live-listing.ts';
import { readRecord, writeRecord, type LiveRecord } from './live-record.ts';
import { PHASES, PROVEN_PHASES, type DistRead, type ProvenPhase } from '../model/phases.ts';
import { HttpStatusError, type ApiReader } from './api-reader.ts';

/** What prereqs applies, by key: for a namespace the labels and annotations it gives it. */
async function prereqsDeclared(cluster: ClusterConfig): Promise<Map<string, Declared>> {
  const manifests = (await readManifests([path.join(cluster.dir, 'prerequisites')])).map((s) => s.object);
  const none: Declared = { labels: {}, annotations: {} };
  return new Map([
    [entryKey({ group: '', kind: 'Namespace', namespace: '', name: 'kube-system' }), none],
    ...manifests.map((o): [string, Declared] => [
      entryKey({ group: groupOf(o.apiVersion), kind: o.kind ?? '', namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }),
      { labels: o.metadata?.labels ?? {}, annotations: o.metadata?.annotations ?? {} },
    ]),
    ...cluster.prerequisites.secrets.map((s): [string, Declared] => [entryKey({ group: '', kind: 'Secret', namespace: s.namespace, name: s.name }), none]),
  ]);
}

interface Declared {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * A namespace holds only metadata, and core writes it too (Helm's --create-namespace applies a
 * `name` label to a release's namespace): prereqs' part of it is its uid and the labels and
 * annotations it declares, as they are live.
 */
const namespaceState = (e: LiveEntry, declared: Declared): string =>
  JSON.stringify([Object.keys(declared.labels).map((k) => e.labels[k] ?? null), Object.keys(declared.annotations).map((k) => e.annotations?.[k] ?? null)]);

/** What each phase reads (the phase table's proof.objects), so that what a later phase writes does not void an earlier one's proof. */
export async function readsetOf(phase: ProvenPhase, cluster: ClusterConfig, entries: LiveEntry[]): Promise<LiveEntry[]> {
  switch (PHASES[phase].proof.objects) {
    case 'declared': {
      const declared = await prereqsDeclared(cluster);
      return entries.flatMap((e) => {
        const mine = declared.get(entryKey(e));
        if (!mine) return [];
        return e.kind === 'Namespace' && e.group === '' ? [{ ...e, resourceVersion: namespaceState(e, mine) }] : [e];
      });
    }
    case 'crds':
      return entries.filter((e) => e.group === 'apiextensions.k8s.io' && e.kind === 'CustomResourceDefinition');
    case 'releases': {
      // Helm's release storage and core's record; of the objects Helm deployed (each must exist:
      // the release is whole) and of the custom resources only which ones exist, by uid: a
      // controller writing their status is no change to core, a deletion (even if re-created) is.
      const crdGroups = new Set(entries.filter((e) => e.kind === 'CustomResourceDefinition').map((e) => e.name.slice(e.name.indexOf('.') + 1)));
      const helmOrRecord = (e: LiveEntry) =>
        (e.kind === 'Secret' && e.labels['owner'] === 'helm') || (e.kind === 'ConfigMap' && e.namespace === CORE_RECORD.namespace && e.name === CORE_RECORD.name);
      return entries.flatMap((e) => (helmOrRecord(e) ? [e] : e.release !== undefined || crdGroups.has(e.group) ? [{ ...e, resourceVersion: '' }] : []));
    }
    case 'everything':
      // Readiness and a dry-run read far and wide: every watched object.
      return entries;
  }
}

export function fingerprint(entries: LiveEntry[]): string {
  const hash = createHash('sha256');
  for (const e of entries) hash.update(`${entryKey(e)} ${e.uid} ${e.resourceVersion}\n`);
  return hash.digest('hex');
}

/**
 * Whether every secret prereqs writes holds, live, the value its source gives now (compared in
 * memory). undefined: a value comes from 1Password, which only a run reads: never proven.
 */
export async function secretsInSync(kube: ApiReader, cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): Promise<boolean | undefined> {
  const results = await Promise.all(
    cluster.prerequisites.secrets.map(async (spec) => {
      if (Object.values(spec.data).some((source) => !('env' in source))) return undefined;
      const live = (await kube.getJson(`/api/v1/namespaces/${spec.namespace}/secrets/${spec.name}`).catch((error: unknown) => {
        if (error instanceof HttpStatusError && error.status === 404) return undefined;
        throw error;
      })) as { data?: Record<string, string>; type?: string } | undefined;
      if (!live || (spec.type && live.type !== spec.type)) return false;
      return Object.entries(spec.data).every(([key, source]) => {
        const value = 'env' in source ? env[source.env] : undefined;
        return value !== undefined && value !== '' && live.data?.[key] === Buffer.from(value, 'utf8').toString('base64');
      });
    }),
  );
  if (results.includes(undefined)) return undefined;
  return results.every(Boolean);
}

/**
 * The dist/ files a phase reads (the phase table's proof.dist): crds and core the bundle, verify
 * the built tree too (which gitops-tree may write after crds has ended, in the same run).
 */
function distReads(clusterName: string, phase: ProvenPhase): string[] {
  const files: Record<DistRead, string[]> = {
    bundle: [path.join(paths.dist, 'crds', clusterName, 'manifest.json'), path.join(paths.dist, 'crds', clusterName, 'crds.yaml')],
    tree: [path.join(paths.dist, 'gitops', clusterName, 'tree.json')],
  };
  return PHASES[phase].proof.dist.flatMap((read: DistRead) => files[read]);
}

/** The given dist/ files by their digests: a hand edit is a miss too. */
async function distDigests(files: string[]): Promise<Map<string, string>> {
  return new Map(await Promise.all(files.map(async (file): Promise<[string, string]> => [file, await readFile(file, 'utf8').then(sha256, () => 'missing')])));
}

/**
 * A phase's proof: its objects and the dist/ files it reads. The files are part of the proof, taken
 * when the phase ends, not of the line Nx hashes: Nx may hash before render-crds has written dist/
 * (a fresh clone), and that line would differ from every later one, a miss in the run after.
 */
export async function proofOf(phase: ProvenPhase, cluster: ClusterConfig, entries: LiveEntry[], dist: Map<string, string>): Promise<string> {
  const files = distReads(cluster.name, phase).map((file) => `${path.relative(paths.dist, file)}=${dist.get(file) ?? 'missing'}`);
  return [fingerprint(await readsetOf(phase, cluster, entries)), ...files].join(' ');
}

/**
 * The line Nx hashes for every phase of the cluster: a token per phase.
 * Records the tokens it handed out. A phase whose objects are as its proof left them gets the
 * proof's token; any other a token of this Nx run (`run`, the Nx process: Nx may ask twice in one
 * run, and must get one answer), which no earlier run had: unlike a token made of the state
 * itself, it cannot meet an entry that a run from this very state left behind before it changed
 * the cluster (after an etcd restore, or from another machine's remote cache).
 */
export async function liveTokens(kube: ApiReader, cluster: ClusterConfig, run: string): Promise<string> {
  const [entries, record, secrets, dist] = await Promise.all([listLive(kube), readRecord(cluster.name), secretsInSync(kube, cluster), distDigests([...new Set(PROVEN_PHASES.flatMap((phase) => distReads(cluster.name, phase)))])]);
  const printed: LiveRecord['printed'] = {};
  for (const phase of PROVEN_PHASES) {
    const now = await proofOf(phase, cluster, entries, dist);
    const proof = record.proven[phase];
    const provable = phase !== 'prereqs' || secrets === true;
    printed[phase] = provable && proof?.fingerprint === now ? proof.token : `${phase === 'prereqs' && secrets === undefined ? 'unprovable' : 'unproven'}-${sha256(`${run} ${phase}`).slice(0, 16)}`;
  }
  const line = `${PROVEN_PHASES.map((p) => `${p}=${printed[p]}`).join(' ')}`;
  await writeRecord(cluster.name, { ...record, printed, answered: { run, line, at: Date.now() } });
  return line;
}

/** After a phase ends well: its objects as it leaves them, under the token Nx hashed it with. */
export async function recordProof(kube: ApiReader, cluster: ClusterConfig, phase: ProvenPhase): Promise<void> {
  const [entries, record, dist] = await Promise.all([listLive(kube), readRecord(cluster.name), distDigests(distReads(cluster.name, phase))]);
  const token = record.printed[phase];
  if (!token || token.startsWith('unprovable-')) return;
  record.proven[phase] = { token, fingerprint: await proofOf(phase, cluster, entries, dist) };
  await writeRecord(cluster.name, record);
}
