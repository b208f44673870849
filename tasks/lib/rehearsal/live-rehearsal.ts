// Flux's verdict on the tree: watches every Kustomization that kustomize-controller reconciles
// until all are Ready, or until nothing moves any more (the rest can never become Ready: a missing
// CRD, a cycle, a failed dependency), and keeps each one's history of Ready conditions with
// Flux's own messages. Then compares it with the audit's prediction.
import type { KubernetesObject } from '@kubernetes/client-node';
import { listObjects, type Kube } from '../cluster/kube.ts';
import { pause } from '../runtime/interrupt.ts';
import type { Progress } from '../runtime/progress.ts';
import { failsItself, FOREIGN_SOURCE, type Finding, type TreeAudit } from '../gitops/flux-audit.ts';
import { conditionOf, readyCondition } from '../cluster/readiness.ts';

interface Condition { type: string; status: string; reason?: string; message?: string }
type Obj = KubernetesObject & { status?: { observedGeneration?: number; conditions?: Condition[] } };

export type FluxOutcome = 'ready' | 'recovered' | 'not-ready';

export interface FluxVerdict {
  /** namespace/name */
  kustomization: string;
  outcome: FluxOutcome;
  /** Seconds from the controllers' start to Ready (or to the last change). */
  seconds: number;
  /** Flux's first failure message, if it ever failed (a race that a retry healed shows here). */
  firstFailure?: string;
  /** Flux's last Ready message, and its reason. */
  message: string;
  reason?: string;
  /**
   * While not Ready, kustomize-controller's Healthy condition, when it says more than Ready's
   * "Reconciliation in progress": "Running health checks for revision … with a timeout of 5m0s".
   */
  healthy?: string;
}

export interface LiveResult {
  verdicts: FluxVerdict[];
  /** How the watch ended. */
  ended: 'all-ready' | 'settled' | 'timeout';
  seconds: number;
}

const ready = (o: Obj) => readyCondition(o) as Condition | undefined;
const idOf = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
/** Not failures: Flux is still working on it, or waits for a dependency to be Ready. */
const inProgress = (c: Condition | undefined) => !c || c.status === 'Unknown' || c.reason === 'Progressing' || c.reason === 'ProgressingWithRetry';
/**
 * Not failures either: the Kustomization's source has no artifact yet, or does not exist yet (the
 * tree applies a GitRepository and its Kustomization together, and kustomize-controller may read
 * the Kustomization first). v1.9.6 kustomization_controller.go: the API server's own NotFound
 * (`GitRepository.source.toolkit.fluxcd.io "x" not found`, retried only after the interval, since
 * a source without an artifact never triggers it), "Source artifact not found, retrying in …".
 * A source that never gets one leaves it at one of these messages, not Ready.
 */
export const waitsForSource = (c: Condition | undefined) =>
  c?.reason === 'ArtifactFailed' &&
  /^(\w+\.source\.toolkit\.fluxcd\.io "[^"]+" not found|unable to get source '[^']+': .*not found|Source artifact not found|Source is not ready, artifact not found)/.test(c.message ?? '');

interface History { firstSeen: number; readyAt?: number; lastChange: number; firstFailure?: string; last?: Condition; healthy?: Condition }

export interface WatchOptions {
  timeoutMs: number;
  /** How long nothing may change, with no HelmRelease being installed, before the watch ends. */
  settleMs: number;
  /**
   * Something still works on what the Kustomizations applied. `lastChange` (ms): the watch last saw
   * a Kustomization change then; a HelmRelease applied by then (a Kustomization without wait is
   * Ready as soon as it applied one) must have been looked at since, or it is never installed.
   */
  busy: (lastChange: number) => boolean;
  progress?: Progress;
}

export async function watchKustomizations(kube: Kube, started: number, { timeoutMs, settleMs, busy, progress }: WatchOptions): Promise<LiveResult> {
  const history = new Map<string, History>();
  let lastChange = Date.now();
  let ended: LiveResult['ended'] = 'timeout';
  while (Date.now() - started < timeoutMs) {
    const now = Date.now();
    const all = (await listObjects(kube, 'kustomize.toolkit.fluxcd.io/v1', 'Kustomization')) as Obj[];
    for (const k of all) {
      const id = idOf(k);
      const entry = history.get(id) ?? { firstSeen: now, lastChange: now };
      if (!history.has(id)) lastChange = now;
      const condition = ready(k);
      const current = k.status?.observedGeneration === k.metadata?.generation;
      const key = (c?: Condition) => `${c?.status}|${c?.reason}|${c?.message}`;
      if (key(condition) !== key(entry.last)) {
        entry.last = condition;
        entry.lastChange = now;
        lastChange = now;
        if (condition?.status === 'False' && !inProgress(condition) && condition.reason !== 'DependencyNotReady' && !waitsForSource(condition) && !entry.firstFailure) entry.firstFailure = condition.message;
      }
      entry.healthy = conditionOf(k, 'Healthy') as Condition | undefined;
      if (condition?.status === 'True' && current && entry.readyAt === undefined) entry.readyAt = now;
      if (condition?.status !== 'True') entry.readyAt = undefined;
      history.set(id, entry);
    }
    const waiting = [...history.entries()].filter(([, h]) => h.readyAt === undefined);
    progress?.update(waiting.slice(0, 6).map(([id, h]) => ({ key: id, text: h.last?.message?.split('\n')[0]?.slice(0, 140) ?? 'waiting for kustomize-controller' })), now - started);
    if (history.size > 0 && waiting.length === 0 && !busy(lastChange)) {
      ended = 'all-ready';
      break;
    }
    if (history.size > 0 && !busy(lastChange) && now - lastChange > settleMs) {
      ended = 'settled';
      break;
    }
    await pause(1000, 'Flux to reconcile the tree', started);
  }
  progress?.done();
  const verdicts = [...history.entries()].map(([kustomization, h]): FluxVerdict => {
    const outcome: FluxOutcome = h.readyAt === undefined ? 'not-ready' : h.firstFailure ? 'recovered' : 'ready';
    return {
      kustomization,
      outcome,
      seconds: ((h.readyAt ?? h.lastChange) - started) / 1000,
      ...(h.firstFailure ? { firstFailure: h.firstFailure } : {}),
      message: h.last?.message ?? 'never reconciled',
      ...(h.last?.reason ? { reason: h.last.reason } : {}),
      ...(outcome === 'not-ready' && h.healthy?.status !== 'True' && h.healthy?.message ? { healthy: h.healthy.message } : {}),
    };
  });
  verdicts.sort((a, b) => (a.outcome === 'not-ready' ? 1 : 0) - (b.outcome === 'not-ready' ? 1 : 0) || a.seconds - b.seconds);
  return { verdicts, ended, seconds: (Date.now() - started) / 1000 };
}

const DEPENDENCY_NOT_READY = /dependency '[^']+' is not ready/;

/**
 * Whether Flux's failure gives the finding's reason: a missing or racing kind by name ("no
 * matches for kind"), a CEL expression by kustomize-controller's CEL error, a health check by its
 * health check message, a cycle or a blocked dependency by "dependency … is not ready". A build
 * or substitution error is worded per case: any failure agrees.
 */
export function fluxSaysSo(f: Finding, fluxMessage: string): boolean {
  switch (f.type) {
    case 'race':
    case 'missing':
      return !f.kind || fluxMessage.includes(`"${f.kind.split(' ').at(-1)}"`);
    case 'cel':
      return /\bCEL\b/.test(fluxMessage);
    case 'health-check':
      return /health ?check/i.test(fluxMessage);
    case 'cycle':
    case 'blocked':
      return DEPENDENCY_NOT_READY.test(fluxMessage);
    default:
      return true;
  }
}

/** Findings that predict a Kustomization cannot come up by itself from empty. */
const blocks = (f: Finding) => failsItself(f) || f.type === 'cycle' || f.type === 'blocked';

export interface Comparison {
  kustomization: string;
  audit: string;
  flux: string;
  /** Flux reconciled it, both say the same (comes up / fails), and for a kind the audit names, Flux's failure names that kind too. */
  agreed: boolean;
  /** Why a difference is expected (the sandbox cannot run it), when it is: only for a Kustomization Flux reconciled. */
  accepted?: string;
  /** Flux never created it (the Kustomization that applies it never applied): neither agreed nor differing, not judged. */
  neverReached?: true;
}

/**
 * Audit against Flux, per Kustomization: the audit predicts trouble (a blocking finding) exactly
 * where Flux failed at least once, for the reason it names. A difference is accepted only where
 * the rehearsal cannot be faithful: kinds an operator registers at run time (no operator runs
 * here), and HelmReleases whose charts were not rehearsed. A Kustomization Flux never reached is
 * neither: it is listed as not judged.
 */
export function compareWithAudit(audit: TreeAudit, live: FluxVerdict[]): Comparison[] {
  const ids = new Set([...audit.layers.map((l) => l.kustomization), ...live.map((v) => v.kustomization)]);
  return [...ids].sort().map((id) => {
    const findings = audit.findings.filter((f) => f.kustomization === id);
    const blocking = findings.filter(blocks).map((f) => `${f.type}${f.kind ? ` ${f.kind}` : ''}`);
    // The cycle finding names the cycle once; every Kustomization in or behind it has no layer.
    if (audit.layers.find((l) => l.kustomization === id)?.layer === null && !blocking.some((b) => b.startsWith('cycle'))) blocking.push('cycle (in or behind a dependsOn cycle: never starts)');
    const verdict = live.find((v) => v.kustomization === id);
    const auditSays = blocking.length ? blocking.join(', ') : 'comes up';
    const fluxSays = !verdict ? 'never reached: the Kustomization that applies it never applied' : verdict.outcome === 'ready' ? 'Ready' : verdict.outcome === 'recovered' ? `Ready after failing: ${verdict.firstFailure}` : `not Ready: ${verdict.firstFailure ?? verdict.message}${verdict.healthy ? ` (${verdict.healthy})` : ''}`;
    if (!verdict) return { kustomization: id, audit: auditSays, flux: fluxSays, agreed: false, neverReached: true as const };
    const fluxFailed = verdict.outcome !== 'ready';
    // A failure agrees only where Flux gives a reason the audit names (or a dependency that is not
    // ready, when the Kustomization also waits behind another).
    const fluxMessage = [verdict.firstFailure ?? verdict.message, verdict.healthy].filter(Boolean).join('\n');
    const reasonsMatch = !fluxFailed || blocking.length === 0 || findings.filter(blocks).some((f) => fluxSaysSo(f, fluxMessage)) || DEPENDENCY_NOT_READY.test(fluxMessage);
    const agreed = blocking.length > 0 === fluxFailed && reasonsMatch;
    // A source the rehearsal does not serve is accepted only where Flux says that source never had an artifact.
    const runtime = findings.find((f) => f.type === 'operator-runtime' || (f.type === 'not-rehearsed' && (!f.message.startsWith(FOREIGN_SOURCE) || (verdict.outcome === 'not-ready' && waitsForSource({ type: 'Ready', status: 'False', reason: verdict.reason, message: verdict.message })))));
    // Flux's "no matches for kind" for a kind the audit counts on an operator to register at run time.
    const missingKind = /no matches for kind "([^"]+)" in version "([^"]+)"/.exec(verdict?.firstFailure ?? verdict?.message ?? '');
    const byOperator = missingKind && audit.layers.find((l) => l.kustomization === id)?.kinds.find((k) => k.kind === missingKind[1] && k.apiVersion === missingKind[2] && k.source === 'operator');
    const accepted = runtime ? `${runtime.type}: ${runtime.message}` : byOperator ? `${byOperator.apiVersion} ${byOperator.kind} is registered ${byOperator.servedBy}, which does not run in a rehearsal` : undefined;
    return {
      kustomization: id,
      audit: auditSays,
      flux: fluxSays,
      agreed,
      ...(!agreed && accepted ? { accepted } : {}),
    };
  });
}
