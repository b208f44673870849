// What core last synced, recorded in the cluster: the hash of the render's inputs and each
// release's helm revision. When the inputs are unchanged and helm reports every release deployed
// at the recorded revision, a rerun is up to date without rendering 01-core again (about 6 s of
// helmfile template) or reading every release's manifest. Any helm action since (an upgrade, a
// rollback, an uninstall, a pending release) changes a revision or a status and brings the full
// plan back, and so does an object of a release gone from the cluster (release-presence.ts).
import type { DeployedRelease } from '../tools/helm.ts';
import { readObject, serverSideApply, type Kube } from '../cluster/kube.ts';
import { formatRef, parseRef, type ObjectRef } from '../cluster/object-presence.ts';
import type { ReleaseObjects } from './release-presence.ts';
import { CORE_RECORD } from '../model/cluster-records.ts';

export interface CoreRecord {
  inputsSha256: string;
  releases: Array<Pick<DeployedRelease, 'namespace' | 'name' | 'chart' | 'revision'>>;
  /** Every object of each release's manifest: each must still exist for the shortcut. */
  objects: ReleaseObjects[];
}

const header = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CORE_RECORD.name, namespace: CORE_RECORD.namespace } };

/** The ConfigMap's data. Objects are stored as { "<namespace>/<release>": ["apps/v1 Deployment ns/name", …] }. */
export function recordData(record: CoreRecord): Record<string, string> {
  const objects = Object.fromEntries(record.objects.map((r) => [`${r.namespace}/${r.name}`, r.objects.map(formatRef)]));
  return { inputsSha256: record.inputsSha256, releases: JSON.stringify(record.releases), objects: JSON.stringify(objects) };
}

/** The record in a ConfigMap's data; undefined for one from an older version (no objects) or edited by hand: it proves nothing. */
export function recordFromData(data: Record<string, string> | undefined): CoreRecord | undefined {
  if (!data?.inputsSha256 || !data.releases || !data.objects) return undefined;
  try {
    const releases = Object.entries(JSON.parse(data.objects) as Record<string, string[]>).map(([key, refs]) => {
      const [namespace, name, ...rest] = key.split('/');
      const objects = refs.map(parseRef);
      return namespace && name && !rest.length && objects.every(Boolean) ? { namespace, name, objects: objects as ObjectRef[] } : undefined;
    });
    if (!releases.every(Boolean)) return undefined;
    return { inputsSha256: data.inputsSha256, releases: JSON.parse(data.releases) as CoreRecord['releases'], objects: releases as ReleaseObjects[] };
  } catch {
    return undefined; // the full plan decides, and the next run rewrites it
  }
}

export async function readCoreRecord(kube: Kube): Promise<CoreRecord | undefined> {
  return recordFromData((await readObject<{ data?: Record<string, string> } & typeof header>(kube, header))?.data);
}

export async function writeCoreRecord(kube: Kube, record: CoreRecord): Promise<void> {
  // Applied whole: a key an older version wrote (customResources) is dropped with it.
  await serverSideApply(kube, { ...header, data: recordData(record) } as typeof header);
}

/**
 * The record as it stands now: these inputs, and what helm list reports for the core releases;
 * undefined unless every release is deployed (a partial record would vouch for a missing one).
 */
export function recordOf(
  inputsSha256: string,
  releases: Array<{ namespace: string; name: string }>,
  deployed: DeployedRelease[],
  objects: ReleaseObjects[],
): CoreRecord | undefined {
  const found = releases.map((r) => deployed.find((d) => d.name === r.name && d.namespace === r.namespace && d.status === 'deployed'));
  if (found.some((d) => d === undefined)) return undefined;
  return { inputsSha256, releases: found.map((d) => ({ namespace: d!.namespace, name: d!.name, chart: d!.chart, revision: d!.revision })), objects };
}

/** Whether the record proves every core release up to date; the reason when it does not. */
export function provenByRecord(record: CoreRecord | undefined, inputsSha256: string, deployed: DeployedRelease[]): { proven: boolean; reason: string } {
  if (!record) return { proven: false, reason: 'no record of a previous sync' };
  if (record.inputsSha256 !== inputsSha256) return { proven: false, reason: 'helmfile.d, values.yaml or tool versions changed since the last sync' };
  for (const release of record.releases) {
    const now = deployed.find((d) => d.name === release.name && d.namespace === release.namespace);
    const where = `${release.namespace}/${release.name}`;
    if (!now) return { proven: false, reason: `${where} is no longer installed` };
    if (now.status !== 'deployed') return { proven: false, reason: `${where} is ${now.status}` };
    if (now.chart !== release.chart || now.revision !== release.revision) return { proven: false, reason: `${where} changed since the last sync (revision ${release.revision} → ${now.revision})` };
  }
  return { proven: record.releases.length > 0, reason: record.releases.length > 0 ? 'inputs unchanged and every release at its recorded helm revision' : 'the record lists no release' };
}
