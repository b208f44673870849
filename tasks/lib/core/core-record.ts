// What core last synced, recorded in the cluster: the hash of the render's inputs and each
// release's helm revision. When the inputs are unchanged and helm reports every release deployed
// at the recorded revision, a rerun is up to date without rendering 01-core again (about 6 s of
// helmfile template) or reading every release's manifest. Any helm action since (an upgrade, a
// rollback, an uninstall, a pending release) changes a revision or a status and brings the full
// plan back, and so does a custom resource of a release gone from the cluster (release-presence.ts).
import type { DeployedRelease } from '../tools/helm.ts';
import { readObject, serverSideApply, type Kube } from '../cluster/kube.ts';

export interface CoreRecord {
  inputsSha256: string;
  releases: Array<Pick<DeployedRelease, 'namespace' | 'name' | 'chart' | 'revision'>>;
  /** The releases' custom resources (customResourceRefs): each must still exist for the shortcut. */
  customResources: string[];
}

const header = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-bootstrap-core', namespace: 'kube-system' } };

export async function readCoreRecord(kube: Kube): Promise<CoreRecord | undefined> {
  const object = await readObject<{ data?: Record<string, string> } & typeof header>(kube, header);
  const data = object?.data;
  // A record without customResources comes from an older version: it proves nothing.
  if (!data?.inputsSha256 || !data.releases || !data.customResources) return undefined;
  try {
    return {
      inputsSha256: data.inputsSha256,
      releases: JSON.parse(data.releases) as CoreRecord['releases'],
      customResources: JSON.parse(data.customResources) as string[],
    };
  } catch {
    return undefined; // edited by hand: the full plan decides, and the next run rewrites it
  }
}

export async function writeCoreRecord(kube: Kube, record: CoreRecord): Promise<void> {
  const data = { inputsSha256: record.inputsSha256, releases: JSON.stringify(record.releases), customResources: JSON.stringify(record.customResources) };
  await serverSideApply(kube, { ...header, data } as typeof header);
}

/**
 * The record as it stands now: these inputs, and what helm list reports for the core releases;
 * undefined unless every release is deployed (a partial record would vouch for a missing one).
 */
export function recordOf(
  inputsSha256: string,
  releases: Array<{ namespace: string; name: string }>,
  deployed: DeployedRelease[],
  customResources: string[],
): CoreRecord | undefined {
  const found = releases.map((r) => deployed.find((d) => d.name === r.name && d.namespace === r.namespace && d.status === 'deployed'));
  if (found.some((d) => d === undefined)) return undefined;
  return { inputsSha256, releases: found.map((d) => ({ namespace: d!.namespace, name: d!.name, chart: d!.chart, revision: d!.revision })), customResources };
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
