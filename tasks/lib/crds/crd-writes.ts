// The writes of the crds phase: every CRD to create is dry-run first (all failures reported
// together, nothing written), then the changes are applied, largest first, each with the hash of
// the spec the API server stores (the next plan's shortcut). Used by the phase and by the scale
// benchmark, which must measure the same work.
import pLimit from 'p-limit';
import type { Bundle } from '../bundle/bundle-files.ts';
import { STORED_HASH_ANNOTATION, storedSpecHash, type Crd } from '../model/crd-bundle.ts';
import type { CrdPlanEntry } from './crd-plan.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { applyCrd, type Kube } from '../cluster/kube.ts';
import { runWriteQueue, type QueueResult } from '../runtime/write-queue.ts';

/** The CRD with the hash of the spec the API server will store, for the next plan to check. */
async function withStoredHash(kube: Kube, crd: Crd, known: string | undefined): Promise<Crd> {
  // Creates and updates were dry-run already (dryRunCreates, the plan); only a breaking change
  // applied with --allow-breaking needs its own dry-run here.
  const hash = known ?? storedSpecHash((await applyCrd(kube, crd, { dryRun: true })).spec);
  crd.metadata.annotations = { ...crd.metadata.annotations, [STORED_HASH_ANNOTATION]: hash };
  return crd;
}

/** Dry-runs in flight at once: they store nothing, so more than the four writes. */
export const DRY_RUN_CONCURRENCY = 4;

/**
 * Server-side dry-runs of every CRD to create; all failures are reported together, nothing is
 * written. Returns the hash of the spec each would be stored with.
 */
export async function dryRunCreates(kube: Kube, crds: Crd[], clusterName: string, concurrency = DRY_RUN_CONCURRENCY): Promise<Map<string, string>> {
  const limit = pLimit(concurrency);
  const stored = new Map<string, string>();
  const failures = (
    await Promise.all(
      crds.map((crd) =>
        limit(async () => {
          try {
            stored.set(crd.metadata.name, storedSpecHash((await applyCrd(kube, crd, { dryRun: true })).spec));
            return undefined;
          } catch (error) {
            return error instanceof Error ? error.message.split('\n')[0] : String(error);
          }
        }),
      ),
    )
  ).filter((f): f is string => f !== undefined);
  if (failures.length > 0) {
    throw new BootstrapError({
      subject: `CRD phase of ${clusterName}`,
      problem: `${failures.length} CRD(s) to create fail the API server's dry-run; nothing was applied:\n${failures.map((f) => `    ${f}`).join('\n')}`,
      fix: 'fix the chart or values that render them (helmfile.d/00-crds), render again and rerun',
    });
  }
  return stored;
}

/** Largest first: the API server takes longest over the largest CRDs (validation, storage, its
 * OpenAPI model), so they start while the small ones fill the other write slots. */
export const largestFirst = (changes: CrdPlanEntry[]): CrdPlanEntry[] => [...changes].sort((a, b) => b.bytes - a.bytes);

/**
 * The writes themselves, in `ordered`'s order, each with the hash of the spec the API server
 * stores: from the plan (updates) or from `created`, the dry-run of the creates.
 */
export function applyChanges(
  kube: Kube,
  bundle: Bundle,
  ordered: CrdPlanEntry[],
  created: Map<string, string>,
  onWritten: (entry: CrdPlanEntry) => void = () => undefined,
): Promise<QueueResult<CrdPlanEntry>> {
  const byName = new Map(bundle.crds.map((crd) => [crd.metadata.name, crd]));
  return runWriteQueue(ordered, async (entry) => {
    await applyCrd(kube, await withStoredHash(kube, byName.get(entry.name)!, entry.storedSha256 ?? created.get(entry.name)));
    onWritten(entry);
  });
}

/** Applies `changes` (plan entries that are not unchanged), largest first, creates dry-run before the first write. */
export async function writeCrds(
  kube: Kube,
  bundle: Bundle,
  changes: CrdPlanEntry[],
  clusterName: string,
  onWritten: (entry: CrdPlanEntry) => void = () => undefined,
): Promise<QueueResult<CrdPlanEntry>> {
  const byName = new Map(bundle.crds.map((crd) => [crd.metadata.name, crd]));
  const ordered = largestFirst(changes);
  // Updates were dry-run by the plan; creates are dry-run here: every write is known to pass
  // before the first one is made, so an invalid CRD leaves the cluster as it was.
  const created = await dryRunCreates(kube, ordered.filter((e) => e.action === 'create').map((e) => byName.get(e.name)!), clusterName);
  return applyChanges(kube, bundle, ordered, created, onWritten);
}
