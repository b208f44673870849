// dist/live/<cluster>.json (git-ignored): what tasks/live-state.ts last answered Nx, and each
// phase's last proof (tasks/lib/cluster/live-proof.ts). Light on purpose: live-state reads it
// before it loads the Kubernetes client, to answer a second question of the same Nx run at once.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../runtime/workspace.ts';
import { writeWhole } from '../runtime/write-whole.ts';
import type { ProvenPhase } from '../model/phases.ts';

export interface Proof {
  token: string;
  fingerprint: string;
}

export interface LiveRecord {
  /** The tokens last handed to Nx: a phase that ends well records its proof under its own. */
  printed: Partial<Record<ProvenPhase, string>>;
  proven: Partial<Record<ProvenPhase, Proof>>;
  /** The whole line, the Nx run it was for (invokerIdentity) and when (ms since the epoch). */
  answered?: { run: string; line: string; at: number };
}

const recordFile = (clusterName: string) => path.join(paths.dist, 'live', `${clusterName}.json`);

export async function readRecord(clusterName: string): Promise<LiveRecord> {
  try {
    const record = JSON.parse(await readFile(recordFile(clusterName), 'utf8')) as Partial<LiveRecord>;
    return { printed: record.printed ?? {}, proven: record.proven ?? {}, ...(record.answered ? { answered: record.answered } : {}) };
  } catch {
    return { printed: {}, proven: {} };
  }
}

export const writeRecord = (clusterName: string, record: LiveRecord) => writeWhole(recordFile(clusterName), `${JSON.stringify(record, null, 2)}\n`);
