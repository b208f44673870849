// The read-only plan of the CRD phase: per CRD create / update / unchanged / breaking, against
// the live cluster. "Would this change anything" is answered by the API server itself, with a
// server-side apply dry-run compared to the live object; nothing is written.
import pLimit from 'p-limit';
import type { KubernetesObject } from '@kubernetes/client-node';
import { wouldChange } from '../cluster/apply.ts';
import type { Bundle } from '../bundle/bundle-files.ts';
import { HASH_ANNOTATION, STORED_HASH_ANNOTATION, storedSpecHash, type Crd, type LiveCrd } from '../model/crd-bundle.ts';
import { changeLocation, crdChanges, withSettings, type BreakingChange, type RuleSettings } from './crd-compat.ts';
import { applyCrd, FIELD_MANAGER, listCrds, type Kube } from '../cluster/kube.ts';
import { foreignManagers } from './crd-ownership.ts';

export type CrdAction = 'create' | 'update' | 'unchanged' | 'breaking';

export interface CrdPlanEntry {
  name: string;
  action: CrdAction;
  release: string;
  bytes: number;
  /** Changes of severity error (after cluster.yaml's crdRules): these block the CRD phase. */
  breaking: BreakingChange[];
  /** Changes of severity warn or info: reported, not blocking. */
  notes?: BreakingChange[];
  /** Other field managers on the live CRD (kubectl, Helm): crds takes their fields after applying. */
  foreignManagers?: string[];
  /** For an update: the hash of the spec the API server will store, from the plan's dry-run (crds records it). */
  storedSha256?: string;
}

export interface CrdPlan {
  entries: CrdPlanEntry[];
  /** Applied by this tool earlier, gone from the bundle now: reported, never deleted. */
  orphaned: string[];
}

export function managedByUs(object: KubernetesObject): boolean {
  return (object.metadata?.managedFields ?? []).some((f) => f.manager === FIELD_MANAGER);
}

/**
 * The cheap "unchanged" test, proven by content: the live CRD carries the hash of the bundle's
 * CRD and its spec still hashes to what the last apply stored. Another field manager on it (Flux's
 * helm-controller or kustomize-controller applying the same chart's CRDs after the bootstrap)
 * does not matter: whoever applied, the spec is exactly what this tool stored. A spec that differs
 * by one byte is settled by a server-side dry-run.
 */
export function provablyUnchanged(live: KubernetesObject & { spec?: unknown }, wanted: Crd): boolean {
  const hash = wanted.metadata.annotations?.[HASH_ANNOTATION];
  if (!hash || live.metadata?.annotations?.[HASH_ANNOTATION] !== hash) return false;
  // The spec itself must still be what the last apply stored: an edit under any field manager
  // (even ours, by hand) changes it, whatever the annotations say.
  return live.metadata?.annotations?.[STORED_HASH_ANNOTATION] === storedSpecHash(live.spec);
}

/** `live` is the cluster's CRDs when the caller listed them already (one 4 MB list, not two). */
export async function planCrds(kube: Kube, { crds, manifest }: Bundle, rules: RuleSettings = {}, live?: Map<string, LiveCrd>): Promise<CrdPlan> {
  live ??= await listCrds(kube);
  const meta = new Map(manifest.crds.map((m) => [m.name, m]));
  const limit = pLimit(4);
  const entries = await Promise.all(
    crds.map((crd) =>
      limit(async (): Promise<CrdPlanEntry> => {
        const name = crd.metadata.name;
        const base: Pick<CrdPlanEntry, 'name' | 'release' | 'bytes' | 'foreignManagers'> = { name, release: meta.get(name)?.release ?? '?', bytes: meta.get(name)?.bytes ?? 0 };
        const current = live.get(name);
        if (!current) return { ...base, action: 'create', breaking: [] };
        const others = foreignManagers(current as KubernetesObject);
        if (others.length) base.foreignManagers = others;
        if (provablyUnchanged(current, crd)) return { ...base, action: 'unchanged', breaking: [] };
        const changes = withSettings(crdChanges(current as Crd, crd), rules);
        const breaking = changes.filter((c) => c.severity === 'error');
        const notes = changes.filter((c) => c.severity !== 'error');
        if (breaking.length > 0) return { ...base, action: 'breaking', breaking, notes };
        const dryRun = await applyCrd(kube, crd, { dryRun: true });
        const storedSha256 = storedSpecHash(dryRun.spec);
        // Same content with a missing or stale recorded hash (an older version of this tool hashed
        // another form) is written once too, so later runs take the shortcut, not this dry-run.
        const stale = current.metadata.annotations?.[STORED_HASH_ANNOTATION] !== storedSha256;
        return wouldChange(current, dryRun) || stale ? { ...base, action: 'update', breaking, notes, storedSha256 } : { ...base, action: 'unchanged', breaking };
      }),
    ),
  );
  const inBundle = new Set(crds.map((c) => c.metadata.name));
  const orphaned = [...live.values()].filter((c) => !inBundle.has(c.metadata?.name ?? '') && managedByUs(c)).map((c) => c.metadata!.name!);
  return { entries, orphaned: orphaned.sort() };
}

/** Per other field manager, the CRDs it also applies (same content is proven by hash, never taken over). */
export function sharedOwnership(plan: CrdPlan): Map<string, string[]> {
  const shared = new Map<string, string[]>();
  for (const entry of plan.entries) for (const manager of entry.foreignManagers ?? []) shared.set(manager, [...(shared.get(manager) ?? []), entry.name]);
  return shared;
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

/** A readable table: one row per CRD, breaking details indented under their CRD. */
export function formatPlan(plan: CrdPlan): string {
  const rows = plan.entries.map((e) => [e.action, e.name, kib(e.bytes), e.release]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['ACTION', 'CRD', 'SIZE'][i]!.length));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  const out = [line(['ACTION', 'CRD', 'SIZE', 'RELEASE'])];
  for (const [i, entry] of plan.entries.entries()) {
    out.push(line(rows[i]!));
    for (const change of [...entry.breaking, ...(entry.notes ?? [])]) {
      const where = changeLocation(change);
      const mark = { error: '✗', warn: '!', info: '·' }[change.severity];
      out.push(`    ${mark} ${where ? `${where}: ` : ''}${change.rule}: ${change.detail}`);
    }
  }
  for (const name of plan.orphaned) out.push(`orphaned  ${name}  (in the cluster, no longer in the bundle: left in place, never deleted)`);
  const shared = sharedOwnership(plan);
  for (const [manager, names] of shared) out.push(`shared    ${names.length} CRD(s) also applied by ${manager}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`);
  const count = (a: CrdAction) => plan.entries.filter((e) => e.action === a).length;
  out.push(`${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged, ${count('breaking')} breaking, ${plan.orphaned.length} orphaned`);
  return out.join('\n');
}
