// A cached report's verdict, beside its output (dist/<outputs>/<cluster>/verdict.json): under Nx a
// cached report ends 0 whatever it finds (a failed task is never cached), so what decides whether
// a run fails is this file, read by the gate (scripts/gate.ts) and pr-check, cached with the rest.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PHASES, type PhaseDecl } from '../model/phases.ts';
import { paths } from '../runtime/workspace.ts';
import { writeWhole } from '../runtime/write-whole.ts';

export interface Verdict {
  target: string;
  cluster: string;
  clean: boolean;
  /** The report's one-line summary ("17 Kustomizations, 2 findings"). */
  summary: string;
}

const outputsOf = (target: string): string | undefined => (PHASES as Record<string, PhaseDecl>)[target]?.outputs;

/** Whether a target keeps a verdict: a cached report does; another always runs, and its exit code says it. */
export const keepsVerdict = (target: string): boolean => outputsOf(target) !== undefined;

/** Where a cached report keeps its verdict; undefined for a target that keeps none. */
export function verdictFile(target: string, clusterName: string): string | undefined {
  const outputs = outputsOf(target);
  return outputs ? path.join(paths.dist, outputs, clusterName, 'verdict.json') : undefined;
}

export async function writeVerdict(verdict: Verdict): Promise<void> {
  const file = verdictFile(verdict.target, verdict.cluster);
  if (file) await writeWhole(file, `${JSON.stringify(verdict, null, 2)}\n`);
}

/** The verdict the last run (or the cache) left; undefined when none is there. */
export async function readVerdict(target: string, clusterName: string): Promise<Verdict | undefined> {
  const file = verdictFile(target, clusterName);
  if (!file) return undefined;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Verdict;
  } catch {
    return undefined;
  }
}
