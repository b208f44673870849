// verify: prove the cluster is ready for GitOps. Every check runs; failures are reported
// together, one line each (flux's "bootstrap failed with N health check failure(s)").
// What becomes ready by itself (CRDs served, workloads available, conditions such as FluxInstance
// Ready, which an operator sets a moment after core) is waited for, with live progress, until
// --timeout; what cannot (a release not deployed, a dry-run rejected) fails at once.
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadBundle, type Bundle } from './lib/bundle/bundle-files.ts';
import { crdServingStates } from './lib/crds/crd-status.ts';
import { diagnoseWorkload, formatDiagnosis, likelyCause, type ClusterEvent } from './lib/cluster/diagnose.ts';
import { AggregateBootstrapError } from './lib/runtime/errors.ts';
import { deployedReleases } from './lib/tools/helm.ts';
import { listReleases } from './lib/tools/helmfile.ts';
import type { ClusterTarget } from './lib/model/cluster-target.ts';
import { apiError, describe, listObjects, readObject, type Kube } from './lib/cluster/kube.ts';
import { conditionReadiness, workloadReadiness } from './lib/cluster/readiness.ts';
import { chartLabel, deploymentGap, findDeployed } from './lib/core/release-plan.ts';
import { UNSERVED, deployedWholeness } from './lib/core/release-presence.ts';
import { WORKLOADS } from './lib/core/release-status.ts';
import type { ObjectRef } from './lib/cluster/object-presence.ts';
import { pause } from './lib/runtime/interrupt.ts';
import { createProgress } from './lib/runtime/progress.ts';
import { phaseTarget, type TaskContext } from './lib/runner/task.ts';
import { builtinKinds } from './lib/gitops/builtin-kinds.ts';
import { builtTree } from './lib/gitops/cluster-tree.ts';
import { dryRunFirstLayer, firstLayerObjects } from './lib/gitops/gitops-dry-run.ts';
import { paths } from './lib/runtime/workspace.ts';

export interface CheckResult {
  ok: boolean;
  line: string;
}

const pass = (line: string): CheckResult => ({ ok: true, line });
const fail = (line: string): CheckResult => ({ ok: false, line });

async function checkCrds(kube: Kube, { crds }: Bundle): Promise<CheckResult[]> {
  const states = await crdServingStates(kube, crds);
  const failures = [...states].filter(([, s]) => !s.ready).map(([name, s]) => fail(`CRD ${name}: ${s.reason}`));
  return failures.length ? failures : [pass(`${crds.length} CRDs Established and served`)];
}

const WORKLOAD_KINDS = new Set(WORKLOADS.map(([, kind]) => kind));

interface ReleaseCheck {
  results: CheckResult[];
  /** Namespaces whose workloads are checked: the releases' own and those their workloads are in. */
  namespaces: Set<string>;
  /** The Jobs of the release manifests (other workload kinds are found in the namespaces). */
  jobs: ObjectRef[];
}

/**
 * Every core release deployed, and whole: each object of its manifest (helm get manifest) still in
 * the cluster. Helm calls a release deployed whatever became of its objects; a missing one never
 * comes back by itself, so it fails at once, naming the release, the object and the fix.
 */
async function checkReleases(kube: Kube, target: ClusterTarget): Promise<ReleaseCheck> {
  const desired = (await listReleases(target, paths.coreHelmfile)).filter((r) => r.enabled);
  const deployed = await deployedReleases(target);
  const gaps = new Map(desired.map((release) => [release, deploymentGap(release, findDeployed(release, deployed))]));
  const installed = desired.filter((r) => gaps.get(r) === undefined);
  const { manifests, gaps: incomplete } = await deployedWholeness(kube, target, installed);
  const results = desired.flatMap((release) => {
    const name = `release ${release.namespace}/${release.name}`;
    const gap = gaps.get(release);
    if (gap) return [fail(`${name}: ${gap}`)];
    const objects = manifests.find((m) => m.namespace === release.namespace && m.name === release.name)?.objects ?? [];
    const absent = incomplete.find((g) => g.namespace === release.namespace && g.name === release.name)?.absent ?? [];
    if (absent.length === 0) return [pass(`${name}: ${chartLabel(release)} deployed, all ${objects.length} objects of its manifest present`)];
    return absent.map((a) =>
      fail(`${name}: ${a.text} is missing: helm deployed it, the cluster no longer has it${a.unserved ? ` (${UNSERVED})` : ''}; fix: nx run ${target.cluster.name}:core puts it back`),
    );
  });
  const workloads = manifests.flatMap((m) => m.objects.filter((o) => WORKLOAD_KINDS.has(o.kind)));
  return {
    results,
    namespaces: new Set([...desired.map((r) => r.namespace), ...workloads.map((w) => w.namespace)]),
    jobs: workloads.filter((w) => w.kind === 'Job'),
  };
}

/** A workload that is not available is shown with its pods, Warning events and most likely cause. */
function workloadFailure(item: KubernetesObject, pods: KubernetesObject[], events: ClusterEvent[]): CheckResult {
  const diagnosis = diagnoseWorkload(item, pods, events);
  const cause = likelyCause([diagnosis]);
  const detail = formatDiagnosis([diagnosis], cause).split('\n').slice(1).join('\n');
  return fail(`${workloadName(item)}: ${diagnosis.state.reason}${detail ? `\n${detail}` : ''}${cause ? `\n      most likely: ${cause.reason}: ${cause.message}; ${cause.fix}` : ''}`);
}

/** "Deployment cert-manager/cert-manager (release cert-manager/cert-manager)": the release from Helm's own annotations. */
function workloadName(item: KubernetesObject): string {
  const annotations = item.metadata?.annotations ?? {};
  const release = annotations['meta.helm.sh/release-name'];
  return `${describe(item)}${release ? ` (release ${annotations['meta.helm.sh/release-namespace'] ?? ''}/${release})` : ''}`;
}

/**
 * Every Deployment, DaemonSet and StatefulSet in the namespaces available, and each Job of the
 * release manifests completed. A workload missing altogether is checkReleases' to report.
 */
async function checkWorkloads(kube: Kube, namespaces: Set<string>, jobs: ObjectRef[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const kinds = WORKLOADS.map(([, kind]) => kind);
  const sorted = [...namespaces].sort();
  const wantedJobs = new Set(jobs.map((j) => `${j.namespace}/${j.name}`));
  const listed = ([apiVersion, kind]: [string, string], namespace: string) =>
    kind === 'Job' && !jobs.some((j) => j.namespace === namespace) ? Promise.resolve([]) : listObjects(kube, apiVersion, kind, namespace);
  // Every list at once; the results are read in namespace and kind order.
  const lists = sorted.map((namespace) => WORKLOADS.map((workload) => listed(workload, namespace).catch((cause: unknown) => cause as Error)));
  for (const [n, namespace] of sorted.entries()) {
    const list = (apiVersion: string, kind: string) => listObjects(kube, apiVersion, kind, namespace);
    let pods: KubernetesObject[] = [];
    let events: ClusterEvent[] = [];
    for (const [k, kind] of kinds.entries()) {
      const items = await lists[n]![k]!;
      if (items instanceof Error) {
        results.push(fail(apiError(items, `${kind}s in ${namespace}`, 'list failed').message));
        continue;
      }
      for (const item of items) {
        if (kind === 'Job' && !wantedJobs.has(`${namespace}/${item.metadata?.name ?? ''}`)) continue;
        const state = workloadReadiness(item);
        if (state.ready) {
          results.push(pass(`${workloadName(item)}: ${state.reason}`));
          continue;
        }
        if (pods.length === 0) [pods, events] = await Promise.all([list('v1', 'Pod'), list('v1', 'Event') as Promise<ClusterEvent[]>]);
        results.push(workloadFailure(item, pods, events));
      }
    }
  }
  return results;
}

async function checkConditions(kube: Kube, ctx: TaskContext): Promise<CheckResult[]> {
  return Promise.all(
    ctx.cluster.verify.conditions.map(async (check) => {
      const header = { apiVersion: check.apiVersion, kind: check.kind, metadata: { name: check.name, namespace: check.namespace } };
      const name = describe(header);
      try {
        const object = await readObject(kube, header);
        if (!object) return fail(`${name}: not found`);
        const state = conditionReadiness(object, check.type, check.status);
        return (state.ready ? pass : fail)(`${name}: ${state.reason}`);
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error));
      }
    }),
  );
}

/** What Flux applies first, built as Flux builds it, must now be accepted (a dry-run writes nothing). */
async function checkGitops(kube: Kube, ctx: TaskContext, { manifest }: Bundle): Promise<CheckResult[]> {
  if (!ctx.cluster.gitops) return [];
  const [tree, builtin] = await Promise.all([builtTree(ctx.cluster), builtinKinds(ctx.cluster)]);
  const outcome = await dryRunFirstLayer(kube, firstLayerObjects(tree, builtin, manifest.crds), ctx.timeoutMs);
  const skipped = Object.entries(outcome.skipped).map(([why, count]) => `${count} ${why}`).join(', ');
  const moved = outcome.retargeted ? `, ${outcome.retargeted} in namespace default (theirs comes with the tree)` : '';
  const summary = `GitOps first layer (built as Flux builds it): ${outcome.accepted} objects accepted by a server-side dry-run${moved}; not sent: ${skipped || 'none'}`;
  if (outcome.rejected.length === 0) return [pass(summary)];
  return outcome.rejected.map((r) => fail(`${r.file}: ${r.object}: ${r.message}`));
}

const POLL_MS = 1000;

/**
 * Runs `check` until every result passes or the deadline passes; returns the last results.
 * `waiting` reports what still fails, for live progress.
 */
async function eventually(check: () => Promise<CheckResult[]>, what: string, deadline: number, waiting: (what: string, failing: CheckResult[]) => void): Promise<CheckResult[]> {
  const started = Date.now();
  for (;;) {
    const results = await check();
    const failing = results.filter((r) => !r.ok);
    if (failing.length === 0 || Date.now() >= deadline) {
      waiting(what, []);
      return results;
    }
    waiting(what, failing);
    await pause(POLL_MS, what, started);
  }
}

export async function verify(ctx: TaskContext): Promise<CheckResult[]> {
  const { cluster, context, log } = ctx;
  const kube = ctx.kube();
  const started = Date.now();
  const deadline = started + ctx.timeoutMs;
  const progress = createProgress(process.stderr, { prefix: `[${cluster.name}] `, timeoutMs: ctx.timeoutMs });
  const pending = new Map<string, string>();
  const waiting = (what: string, failing: CheckResult[]) => {
    if (failing.length) pending.set(what, `${failing.length} not ready yet: ${failing[0]!.line.split('\n')[0]}`);
    else pending.delete(what);
    progress.update([...pending].map(([key, text]) => ({ key, text })), Date.now() - started);
  };
  // The checks are independent reads: asked at once, reported in this order.
  const releaseChecks = async () => {
    const releases = await checkReleases(kube, { cluster, context });
    return [...releases.results, ...(await eventually(() => checkWorkloads(kube, releases.namespaces, releases.jobs), 'workloads', deadline, waiting))];
  };
  const bundle = await loadBundle(cluster.name);
  const results = (
    await Promise.all([
      eventually(() => checkCrds(kube, bundle), 'CRDs', deadline, waiting),
      releaseChecks(),
      eventually(() => checkConditions(kube, ctx), 'conditions', deadline, waiting),
      checkGitops(kube, ctx, bundle),
    ]).finally(() => progress.done())
  ).flat();
  for (const result of results) (result.ok ? log.success : log.failure)(result.line);
  const failures = results.filter((r) => !r.ok);
  if (failures.length > 0) {
    throw new AggregateBootstrapError(
      `verify of ${cluster.name} failed with ${failures.length} check failure(s):`,
      failures.map((f) => f.line),
    );
  }
  return results;
}

export const target = phaseTarget('verify', async (ctx) => void (await verify(ctx)));

if (import.meta.main) await target.cli();
