// The from-empty rehearsal: Flux Kustomizations in dependsOn order, and for each the kinds it
// applies and who serves them at that point. Pure; the audit task gathers the inputs.
//
// What "served at that point" means in Flux: a Kustomization starts once every dependsOn is Ready.
// A dependency is Ready when its apply succeeded and, only with spec.wait (or a healthCheck), once
// what it applied is healthy. So a HelmRelease in a dependency guarantees its CRDs only when that
// dependency waits for it. CRDs in a Kustomization's own build are applied before its other objects.
import type { OperatorSpec } from '../model/config.ts';
import type { ManifestEntry } from '../model/crd-bundle.ts';
import type { FluxKustomization } from './flux-tree.ts';
import type { CrdKind, HelmReleaseCrds } from './helmrelease-crds.ts';
import { sameVersion } from '../tools/chart-pins.ts';

export type FindingType = 'race' | 'missing' | 'operator-runtime' | 'cycle' | 'version-skew' | 'dependency' | 'build' | 'substitution' | 'not-rehearsed' | 'blocked' | 'handover' | 'capability-gated' | 'cel' | 'health-check';

/** How a Kustomization built from a source the audit has no checkout of is named (live-rehearsal.ts matches it). */
export const FOREIGN_SOURCE = 'built from another source';

/** Findings that make Flux fail the Kustomization itself: what its dependents then wait for, forever. */
export const FAILS_ITSELF: FindingType[] = ['race', 'missing', 'dependency', 'build', 'substitution', 'cel', 'health-check'];

/** Does this finding make its Kustomization fail (and so block its dependents)? */
export const failsItself = (f: Finding) => FAILS_ITSELF.includes(f.type) && !f.contained;

export interface Finding {
  type: FindingType;
  kustomization: string;
  file: string;
  /** "apiVersion Kind", for kind findings. */
  kind?: string;
  message: string;
  fix: string;
  /** Listed, but the audit stays clean: a version skew unless cluster.yaml sets gitops.pinSkew: error. */
  severity?: 'warn';
  /** The failure stays with one object (a HelmRelease its Kustomization does not wait for): the Kustomization is Ready anyway. */
  contained?: true;
  /** capability-gated: the HelmRelease (namespace/name), and the objects it never creates (none when its install fails instead). */
  gated?: { helmRelease: string; objects: GatedObject[] };
}

export interface GatedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** Where a kind's definition comes from at the point a Kustomization applies it. */
export type KindSource = 'builtin' | 'platform' | 'bundle' | 'tree-crd' | 'helmrelease' | 'operator' | 'none';

export interface KindVerdict {
  apiVersion: string;
  kind: string;
  files: string[];
  ok: boolean;
  source: KindSource;
  /** Who serves it, or what is wrong. */
  servedBy: string;
}

export interface LayerRow {
  /** dependsOn depth; null inside (or behind) a dependsOn cycle. */
  layer: number | null;
  kustomization: string;
  file: string;
  dependsOn: string[];
  wait: boolean;
  kinds: KindVerdict[];
}

export interface BootstrapRelease {
  name: string;
  /** The chart's upstream location without oci:// or the registry mirror, e.g. quay.io/jetstack/charts/cert-manager. */
  chart: string;
  version: string;
  stateFile: string;
  /** The line of its version: in the state file (0: not found). */
  line?: number;
  /** Installed by the core phase (an operator it runs is up before any Kustomization). */
  installed: boolean;
}

export interface TreeAuditInput {
  kustomizations: FluxKustomization[];
  /** "apiVersion Kind" of every built-in kind of the cluster's Kubernetes version. */
  builtin: Set<string>;
  bundle: ManifestEntry[];
  helmReleases: HelmReleaseCrds[];
  operators: OperatorSpec[];
  /** API groups the platform serves itself (cluster.yaml gitops.platformGroups): never missing. */
  platformGroups?: string[];
  bootstrapReleases: BootstrapRelease[];
  /** cluster.yaml gitops.pinSkew: whether a bootstrap pin the tree disagrees with fails the audit. */
  pinSkew?: 'warn' | 'error';
  /** Findings judged beside the kinds (cel-checks.ts, health-checks.ts): they fail their Kustomization, so they carry down too. */
  treeFindings?: Finding[];
}

export interface TreeAudit {
  layers: LayerRow[];
  findings: Finding[];
}

export const splitApiVersion = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion]) as [string, string];
const serves = (crd: CrdKind, group: string, version: string, kind: string) => crd.group === group && crd.kind === kind && crd.versions.includes(version);

export function auditTree(input: TreeAuditInput): TreeAudit {
  const byId = new Map(input.kustomizations.map((k) => [k.id, k]));
  const findings: Finding[] = [];
  const cycles = findCycles(input.kustomizations, byId);
  for (const cycle of cycles) {
    const first = byId.get(cycle[0]!)!;
    findings.push({
      type: 'cycle',
      kustomization: first.id,
      file: first.file,
      message: `dependsOn cycle: ${[...cycle, cycle[0]].join(' → ')}; none of them ever starts`,
      fix: 'remove one dependsOn of the cycle (usually the one that points back to a later layer)',
    });
  }
  const inCycle = new Set(cycles.flat());
  for (const k of input.kustomizations) {
    for (const dep of k.dependsOn.filter((d) => !byId.has(d))) {
      findings.push({ type: 'dependency', kustomization: k.id, file: k.file, message: `dependsOn ${dep}, which no Kustomization of the tree defines; Flux waits for it forever`, fix: `fix the name/namespace of dependsOn ${dep}, or add that Kustomization` });
    }
    if (k.error) findings.push({ type: 'build', kustomization: k.id, file: k.file, message: `kustomize build of ${k.path} failed: ${k.error}`, fix: `fix ${k.path} (its kustomization.yaml or the files it names)` });
    if (k.foreignSource) {
      findings.push({ type: 'not-rehearsed', kustomization: k.id, file: k.file, message: `${FOREIGN_SOURCE} (${k.foreignSource}), not rehearsed: its objects are unknown here`, fix: `map ${k.foreignSource} to a local checkout in cluster.yaml gitops.sources (e.g. "${k.foreignSource.replace(' ', '/')}": ../other-repo)` });
    }
    for (const missing of k.unresolved) {
      findings.push({ type: 'substitution', kustomization: k.id, file: k.file, message: `postBuild.substituteFrom ${missing}: nothing in the tree or in prerequisites creates it; Flux stops this Kustomization until it exists`, fix: 'add it to the tree, to prerequisites.secrets in cluster.yaml, or mark the reference optional: true' });
    }
  }

  findings.push(...(input.treeFindings ?? []));
  for (const hr of input.helmReleases.filter((h) => h.notRendered)) {
    findings.push({ type: 'not-rehearsed', kustomization: hr.kustomization, file: hr.file, message: `HelmRelease ${hr.namespace}/${hr.name}: ${hr.notRendered!.reason}; the CRDs its chart installs are unknown`, fix: hr.notRendered!.fix });
  }

  const layer = layersOf(input.kustomizations, byId, inCycle);
  const deps = (id: string) => transitiveDependencies(id, byId);
  const layers: LayerRow[] = input.kustomizations.map((k) => ({
    layer: layer.get(k.id) ?? null,
    kustomization: k.id,
    file: k.file,
    dependsOn: k.dependsOn,
    wait: k.wait,
    kinds: kindUses(k).map((use) => judgeKind(use, k, deps(k.id), awaitedDependencies(k.id, byId), input, byId, findings)),
  }));
  layers.sort((a, b) => (a.layer ?? Infinity) - (b.layer ?? Infinity) || a.kustomization.localeCompare(b.kustomization));
  findings.push(...blockedBehind(input.kustomizations, byId, findings, inCycle), ...versionSkew(input));
  return { layers, findings };
}

/**
 * A Kustomization whose dependency (however far down) is predicted to fail is predicted blocked,
 * as Flux says it ("dependency '…' is not ready"), naming the chain down to the root cause. One
 * finding per blocked Kustomization, for its nearest failing dependency. Cycles keep their own finding.
 */
function blockedBehind(kustomizations: FluxKustomization[], byId: Map<string, FluxKustomization>, findings: Finding[], inCycle: Set<string>): Finding[] {
  const failing = new Map<string, Finding>();
  for (const f of findings) if (failsItself(f) && !failing.has(f.kustomization)) failing.set(f.kustomization, f);
  const blocked: Finding[] = [];
  for (const k of kustomizations) {
    if (failing.has(k.id) || inCycle.has(k.id)) continue;
    // Breadth first: the nearest failing dependency, and the path to it.
    const trail = new Map<string, string>([[k.id, '']]);
    const queue = [k.id];
    let root: string | undefined;
    while (queue.length && !root) {
      const id = queue.shift()!;
      for (const dep of byId.get(id)?.dependsOn ?? []) {
        if (trail.has(dep) || !byId.has(dep)) continue;
        trail.set(dep, id);
        if (failing.has(dep)) {
          root = dep;
          break;
        }
        queue.push(dep);
      }
    }
    if (!root) continue;
    const chain: string[] = [];
    for (let at: string = root; at; at = trail.get(at)!) chain.unshift(at);
    const cause = failing.get(root)!;
    const first = chain[1]!;
    blocked.push({
      type: 'blocked',
      kustomization: k.id,
      file: k.file,
      message: `dependency '${first}' is not ready${chain.length > 2 ? ` (${chain.slice(1).join(' → ')})` : ''}: ${root} is predicted to fail (${cause.type}${cause.kind ? ` ${cause.kind}` : ''}), so Flux never applies ${k.id}`,
      fix: `fix ${root} first (its own finding: ${cause.fix})`,
    });
  }
  return blocked;
}

interface KindUse {
  apiVersion: string;
  kind: string;
  files: string[];
}

function kindUses(k: FluxKustomization): KindUse[] {
  const uses = new Map<string, KindUse>();
  for (const { object, file } of k.objects) {
    const key = `${object.apiVersion} ${object.kind}`;
    const use = uses.get(key) ?? { apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', files: [] };
    if (!use.files.includes(file)) use.files.push(file);
    uses.set(key, use);
  }
  return [...uses.values()].sort((a, b) => `${a.apiVersion} ${a.kind}`.localeCompare(`${b.apiVersion} ${b.kind}`));
}

/** Does dependency d guarantee that HelmRelease hr (which it applies) has installed its CRDs? */
export function waitsFor(d: FluxKustomization, hr: { name: string; namespace: string }): boolean {
  return d.wait || d.healthChecks.includes(`HelmRelease ${hr.namespace}/${hr.name}`);
}

function judgeKind(use: KindUse, k: FluxKustomization, deps: Set<string>, awaited: Set<string>, input: TreeAuditInput, byId: Map<string, FluxKustomization>, findings: Finding[]): KindVerdict {
  const { apiVersion, kind, files } = use;
  const [group, version] = splitApiVersion(apiVersion);
  const verdict = (ok: boolean, servedBy: string, source: KindSource): KindVerdict => ({ apiVersion, kind, files, ok, servedBy, source });
  const what = `${apiVersion} ${kind}`;
  const report = (type: FindingType, message: string, fix: string) => findings.push({ type, kustomization: k.id, file: files[0] ?? k.file, kind: what, message, fix });

  const bootstrap = servedByBootstrap(apiVersion, kind, input.builtin, input.bundle);
  if (bootstrap === 'builtin') return verdict(true, 'built in', 'builtin');
  if (input.platformGroups?.includes(group)) return verdict(true, 'served by the platform (gitops.platformGroups)', 'platform');
  if (bootstrap) return verdict(true, `CRD phase (${bootstrap.release})`, 'bundle');
  for (const id of [k.id, ...deps]) {
    const crd = byId.get(id)?.objects.find(({ object: o }) => o.kind === 'CustomResourceDefinition' && serves(crdKindOf(o as { spec?: unknown }), group, version, kind));
    if (crd) return verdict(true, id === k.id ? `CRD applied first by this Kustomization (${crd.file})` : `CRD applied by ${id}`, 'tree-crd');
  }

  const providers = input.helmReleases.filter((hr) => hr.crds.some((c) => serves(c, group, version, kind)));
  const ready = providers.find((hr) => awaited.has(hr.kustomization) && waitsFor(byId.get(hr.kustomization)!, hr));
  if (ready) {
    const policy = `install.crds ${ready.installCrds}, upgrade.crds ${ready.upgradeCrds}`;
    return verdict(true, `HelmRelease ${ready.namespace}/${ready.name} in ${ready.kustomization} (${policy})`, 'helmrelease');
  }

  const operator = input.operators.find((o) => o.groups.includes(group));
  if (operator && providers.length === 0) {
    const core = input.bootstrapReleases.find((r) => r.installed && r.name === operator.release);
    if (core) return verdict(true, `at run time by ${operator.name} (bootstrap release ${core.name})`, 'operator');
    const runner = input.helmReleases.find((hr) => hr.name === operator.release);
    if (runner && awaited.has(runner.kustomization) && waitsFor(byId.get(runner.kustomization)!, runner)) {
      return verdict(true, `at run time by ${operator.name} (HelmRelease ${runner.name} in ${runner.kustomization})`, 'operator');
    }
    const where = runner ? `HelmRelease ${runner.name} in ${runner.kustomization}` : `release ${operator.release}, which neither helmfile.d/01-core nor the tree installs`;
    report(
      'operator-runtime',
      `${k.id} applies ${what}, which ${operator.name} registers at run time (${where}), but ${k.id} does not wait for it`,
      runner ? `add dependsOn ${runner.kustomization} to ${k.id} (with wait: true on ${runner.kustomization}), or install ${operator.release} in helmfile.d/01-core` : `install ${operator.release} in helmfile.d/01-core or the tree, or fix gitops.operators in cluster.yaml`,
    );
    return verdict(false, `operator-runtime: ${operator.name} may not have registered it yet`, 'operator');
  }

  if (providers.length > 0) {
    const hr = providers[0]!;
    const d = byId.get(hr.kustomization)!;
    const release = `HelmRelease ${hr.namespace}/${hr.name}`;
    if (hr.kustomization === k.id) {
      report('race', `${k.id} applies ${what} together with ${release}, which installs its CRD: the object is applied before the chart runs`, `move the ${kind} objects into a Kustomization with dependsOn ${k.id} (and wait: true on ${k.id}), or move the chart to helmfile.d/00-crds`);
    } else if (deps.has(d.id) && !awaited.has(d.id)) {
      const early = [k, ...[...deps].map((id) => byId.get(id)!)].find((x) => x.early?.includes(d.id))!;
      report(
        'race',
        `${k.id} depends on ${d.id}, whose ${release} installs the ${kind} CRD, but ${early.id}'s readyExpr for it (${early.readyExprs?.[d.id]}) already holds before ${d.id} is Ready, and Flux checks it instead of Ready (kustomize-controller's AdditiveCELDependencyCheck is off)`,
        `make the readyExpr in ${early.file} require ${d.id}'s Ready condition too (dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')), or turn on AdditiveCELDependencyCheck in the FluxInstance's kustomize.patches (--feature-gates=AdditiveCELDependencyCheck=true on kustomize-controller), or move the chart to helmfile.d/00-crds`,
      );
    } else if (deps.has(d.id)) {
      report('race', `${k.id} depends on ${d.id}, whose ${release} installs the ${kind} CRD, but ${d.id} is Ready before the release is (no wait)`, `set wait: true on ${d.id} (or a healthCheck on ${release}), or move the chart to helmfile.d/00-crds`);
    } else {
      const gate = d.wait ? 'wait: true' : waitsFor(d, hr) ? `a healthCheck on ${release}` : 'no wait or healthCheck on it: set wait: true too';
      report('race', `${k.id} applies ${what}, whose CRD ${release} installs in ${d.id}, which ${k.id} does not depend on`, `add dependsOn ${d.id} to ${k.id} (${d.id} has ${gate}), or move the chart to helmfile.d/00-crds`);
    }
    return verdict(false, `race: CRD from ${release} in ${d.id}`, 'helmrelease');
  }

  // A chart of the tree that was not rendered may define it, wherever it is (a race then, if it is
  // not below this Kustomization): unknown, not missing. Its own finding says how to render it.
  const inReach = (hr: HelmReleaseCrds) => hr.kustomization === k.id || deps.has(hr.kustomization);
  const unrendered = input.helmReleases.filter((hr) => hr.notRendered).sort((a, b) => Number(inReach(b)) - Number(inReach(a)));
  if (unrendered.length > 0) {
    const names = unrendered.map((hr) => `HelmRelease ${hr.namespace}/${hr.name}${inReach(hr) ? '' : ` (in ${hr.kustomization}, which ${k.id} does not depend on)`}`).join(', ');
    report('not-rehearsed', `nothing rendered provides ${what}; ${names} ${unrendered.length > 1 ? 'were' : 'was'} not rendered and may`, `make ${unrendered.map((hr) => `HelmRelease ${hr.namespace}/${hr.name}`).join(', ')} renderable (see its own finding), then audit again`);
    return verdict(false, `unknown: ${names} not rendered`, 'none');
  }
  report('missing', `nothing provides ${what}: no CRD in the bundle, the tree or its HelmReleases serves it, and no operator declares its group`, `add the chart that defines it to helmfile.d/00-crds, or declare the operator that registers ${group || 'it'} in cluster.yaml gitops.operators (or gitops.platformGroups when the platform itself serves it)`);
  return verdict(false, 'missing: nothing provides it', 'none');
}

/** Served from the first moment: built in, or a CRD of the CRD phase's bundle. */
export function servedByBootstrap(apiVersion: string, kind: string, builtin: Set<string>, bundle: ManifestEntry[]): 'builtin' | ManifestEntry | undefined {
  if (builtin.has(`${apiVersion} ${kind}`)) return 'builtin';
  const [group, version] = splitApiVersion(apiVersion);
  return bundle.find((c) => serves(c, group, version, kind));
}

/** A CRD kind the tree serves, and what serves it: `HelmRelease a/b in c/d`, `a CRD in c/d`. */
export type TreeServedKind = CrdKind & { by: string; kustomization: string };

/**
 * The kinds the tree itself serves (beyond the bundle) by the time helm-controller installs a
 * HelmRelease of Kustomization `at`: CRDs applied by `at` or below it (a Kustomization applies its
 * CRDs first), and the CRDs of HelmReleases below it that are waited for. Without `at`: every kind
 * the tree ever serves. Operator-registered kinds: operatorServedKinds.
 */
export function treeServedKinds(kustomizations: FluxKustomization[], helmReleases: HelmReleaseCrds[], at?: string): TreeServedKind[] {
  const byId = new Map(kustomizations.map((k) => [k.id, k]));
  const below = at === undefined ? undefined : transitiveDependencies(at, byId);
  const applied = at === undefined ? kustomizations : [at, ...below!].map((id) => byId.get(id)).filter((k) => k !== undefined);
  const fromObjects = applied.flatMap((k) =>
    k.objects.filter(({ object }) => object.kind === 'CustomResourceDefinition').map(({ object }) => ({ ...crdKindOf(object as { spec?: unknown }), by: `a CRD in ${k.id}`, kustomization: k.id })),
  );
  const awaited = at === undefined ? undefined : awaitedDependencies(at, byId);
  const releases = awaited === undefined ? helmReleases : helmReleases.filter((hr) => awaited.has(hr.kustomization) && waitsFor(byId.get(hr.kustomization)!, hr));
  const fromReleases = releases.flatMap((hr) => hr.crds.map((c) => ({ ...c, by: `HelmRelease ${hr.namespace}/${hr.name} in ${hr.kustomization}`, kustomization: hr.kustomization })));
  return [...fromObjects, ...fromReleases];
}

/**
 * The kinds operators register at run time (gitops.operators), as the tree uses them (the only
 * versions known: the objects' apiVersions), once the operator's release runs by the time
 * helm-controller installs a HelmRelease of Kustomization `at`: a release core installed, or the
 * operator's HelmRelease in a dependency that waits for it. Without `at`: all of them.
 */
export function operatorServedKinds(kustomizations: FluxKustomization[], helmReleases: HelmReleaseCrds[], operators: OperatorSpec[], bootstrap: BootstrapRelease[], at?: string): TreeServedKind[] {
  const byId = new Map(kustomizations.map((k) => [k.id, k]));
  const awaited = at === undefined ? undefined : awaitedDependencies(at, byId);
  const kinds = new Map<string, TreeServedKind>();
  for (const operator of operators) {
    const core = bootstrap.some((r) => r.installed && r.name === operator.release);
    const runner = helmReleases.find((hr) => hr.name === operator.release);
    const runs = core || (runner && (awaited === undefined || (awaited.has(runner.kustomization) && waitsFor(byId.get(runner.kustomization)!, runner))));
    if (!runs) continue;
    for (const { object } of kustomizations.flatMap((k) => k.objects)) {
      const [group, version] = splitApiVersion(object.apiVersion ?? '');
      if (!operator.groups.includes(group) || !object.kind) continue;
      kinds.set(`${group}/${version}/${object.kind}`, { group, kind: object.kind, versions: [version], by: `${operator.name} at run time (${core ? `bootstrap release ${operator.release}` : `HelmRelease ${runner!.namespace}/${runner!.name} in ${runner!.kustomization}`})`, kustomization: core ? '' : runner!.kustomization });
    }
  }
  return [...kinds.values()];
}

function crdKindOf(o: { spec?: unknown }): CrdKind {
  const spec = (o.spec ?? {}) as { group?: string; names?: { kind?: string }; versions?: Array<{ name: string; served?: boolean }> };
  return { group: spec.group ?? '', kind: spec.names?.kind ?? '', versions: (spec.versions ?? []).filter((v) => v.served !== false).map((v) => v.name) };
}

/**
 * The dependencies Flux has seen Ready before it applies `id`: every dependsOn below it, except one
 * whose readyExpr Flux checks instead of Ready and which already holds before that dependency is
 * Ready (`early`). Below an early one the walk goes on: it has started, so its own are Ready.
 */
export function awaitedDependencies(id: string, byId: Map<string, FluxKustomization>): Set<string> {
  const awaited = new Set<string>();
  const visited = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const at = byId.get(stack.pop()!);
    if (!at || visited.has(at.id)) continue;
    visited.add(at.id);
    for (const dep of at.dependsOn.filter((d) => d !== id && byId.has(d))) {
      if (!at.early?.includes(dep)) awaited.add(dep);
      stack.push(dep);
    }
  }
  return awaited;
}

export function transitiveDependencies(id: string, byId: Map<string, FluxKustomization>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(byId.get(id)?.dependsOn ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next) || next === id || !byId.has(next)) continue;
    seen.add(next);
    stack.push(...byId.get(next)!.dependsOn);
  }
  return seen;
}

/** Every elementary dependsOn cycle, each listed once, starting at its smallest id. */
function findCycles(kustomizations: FluxKustomization[], byId: Map<string, FluxKustomization>): string[][] {
  const cycles = new Map<string, string[]>();
  const visit = (id: string, trail: string[]) => {
    const at = trail.indexOf(id);
    if (at >= 0) {
      const cycle = trail.slice(at);
      const start = cycle.indexOf([...cycle].sort()[0]!);
      const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
      cycles.set(rotated.join(' '), rotated);
      return;
    }
    for (const dep of byId.get(id)?.dependsOn ?? []) if (byId.has(dep)) visit(dep, [...trail, id]);
  };
  for (const k of kustomizations) visit(k.id, []);
  return [...cycles.values()];
}

/** Longest dependsOn chain below each Kustomization; those in or behind a cycle get none. */
function layersOf(kustomizations: FluxKustomization[], byId: Map<string, FluxKustomization>, inCycle: Set<string>): Map<string, number> {
  const layer = new Map<string, number>();
  const blocked = new Set<string>();
  const resolve = (id: string): number | undefined => {
    if (layer.has(id)) return layer.get(id);
    if (inCycle.has(id) || blocked.has(id)) return undefined;
    blocked.add(id); // guards the recursion; cleared when a layer is found
    let depth = 0;
    for (const dep of byId.get(id)!.dependsOn.filter((d) => byId.has(d))) {
      const below = resolve(dep);
      if (below === undefined) return undefined;
      depth = Math.max(depth, below + 1);
    }
    blocked.delete(id);
    layer.set(id, depth);
    return depth;
  };
  for (const k of kustomizations) resolve(k.id);
  return layer;
}

/**
 * A chart pinned by the bootstrap at one version and by the tree at another. A warning unless
 * gitops.pinSkew is error: a team may bootstrap from an older pin on purpose.
 */
function versionSkew(input: TreeAuditInput): Finding[] {
  const findings: Finding[] = [];
  for (const hr of input.helmReleases) {
    if ('unresolved' in hr.chart) continue;
    const chart = hr.chart.url.replace(/^oci:\/\//, '');
    // A semver range is compared by the version it resolved to, as Flux installs that one.
    const version = hr.resolvedVersion ?? hr.chart.version;
    for (const pin of input.bootstrapReleases.filter((r) => r.chart === chart && !sameVersion(r.version, version))) {
      const at = pin.line ? `${pin.stateFile}:${pin.line}` : pin.stateFile;
      findings.push({
        type: 'version-skew',
        kustomization: hr.kustomization,
        file: hr.chart.file,
        message: `${at} pins ${pin.name} ${pin.version} for the bootstrap, the tree pins ${version} for HelmRelease ${hr.namespace}/${hr.name}: right after the bootstrap Flux moves the release to ${version}${hr.crds.length > 0 ? `, its operator against CRDs of ${pin.version}` : ''}`,
        fix: `pin one version in both places (${at} and ${hr.chart.file}); renovate.json5 groups them, so one pull request moves both`,
        ...(input.pinSkew === 'error' ? {} : { severity: 'warn' as const }),
      });
    }
  }
  return findings;
}
