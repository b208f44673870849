// The audit gets an oracle: Flux's own source-controller and kustomize-controller bring the tree
// up from empty in a throwaway kwok cluster (nx run <cluster>:rehearse), and the audit's
// prediction is compared with Flux's verdict, per Kustomization, on the example tree and on
// variants of it (copies in temporary folders, --gitops-root; the checkout is never edited).
// While a rehearsal runs, every socket its processes listen on is on loopback.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { filesUnder } from '../../tasks/lib/runtime/input-hash.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { isLoopback, listenersOf, type Listener } from '../../scripts/sandbox/listeners.ts';
import { descendants, processes } from '../helpers/process-tree.ts';
import { testEnv } from '../helpers/sandbox.ts';
import { removeTreeVariants, treeVariant } from '../helpers/tree-variant.ts';
import { dropRelease, withCrdsHelmfile } from '../helpers/variants.ts';
import { withWorkspaceCopy } from '../helpers/workspace-copy.ts';

interface Verdict { kustomization: string; outcome: 'ready' | 'recovered' | 'not-ready'; firstFailure?: string; message: string }
interface Comparison { kustomization: string; audit: string; flux: string; agreed: boolean; accepted?: string }
interface Report {
  ended: string;
  capabilities: Array<{ helmRelease: string; kustomization: string; audit: string; rehearsal: string; agreed: boolean; unjudged?: true }>;
  verdicts: Verdict[];
  comparison: Comparison[];
  customObjects: Record<string, number>;
  helmReleases: Array<{ release: string; ready: boolean; notRehearsed?: boolean }>;
  simulated: string[];
  sync: { kind: string; name: string; namespace: string; path: string; instance: string };
  coverage: { kustomizations: { ready: number; reached: number; total: number }; helmReleases: { installed: number; total: number }; readyNotRehearsed: Array<{ kustomization: string; release: string }> };
  simulatedStatuses: string[];
  listeners: string[];
  handover: Array<{ release: string; audit: string; before?: number; after?: number; manifestChanged: boolean; agreed: boolean; note?: string; unjudged?: true }>;
}

afterAll(removeTreeVariants);

const rehearsalVariant = (edits: Parameters<typeof treeVariant>[0]) => treeVariant(edits, 'rehearse-variant-');

const FLUX_INSTANCE_VALUES = 'apps/flux-system/flux-instance/app/resources/values.yaml';
const GIT_SYNC = /(kind: )GitRepository(\n\s+name: flux-system)/g;

/** Edits that make the example tree sync from an OCIRepository: the FluxInstance's values, and every sourceRef naming the synced source (unless `keepSourceRefs`). */
async function ociSyncedEdits(keepSourceRefs = false): Promise<Record<string, (text: string) => string>> {
  const edits: Record<string, (text: string) => string> = {
    [FLUX_INSTANCE_VALUES]: (t) => t.replace('kind: GitRepository\n    url: https://github.com/example/home-ops\n    ref: refs/heads/main', 'kind: OCIRepository\n    url: oci://ghcr.io/example/home-ops\n    ref: latest'),
  };
  if (keepSourceRefs) return edits;
  const tree = path.join(workspaceRoot, 'kubernetes');
  for (const file of await filesUnder(tree)) {
    if (GIT_SYNC.test(await readFile(file, 'utf8'))) edits[path.relative(tree, file)] = (t) => t.replace(GIT_SYNC, '$1OCIRepository$2');
    GIT_SYNC.lastIndex = 0;
  }
  return edits;
}


/** Runs a rehearsal; samples the listening sockets of every process it started while it runs. */
async function rehearse(args: string[], env: NodeJS.ProcessEnv = {}, cwd = workspaceRoot): Promise<{ code: number | null; report: Report; stderr: string; listeners: Listener[] }> {
  const child = spawn('node', ['tasks/rehearse.ts', '--cluster', 'infra', '--json', '--timeout', '300', ...args], { cwd, env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const listeners = new Map<string, Listener>();
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    // Its children, and the kwok components kwokctl daemonized (their command lines name its folder).
    const all = processes();
    const ours = new Map<number, string>([[child.pid!, 'rehearse']]);
    for (const p of descendants(child.pid!, all)) ours.set(p.pid, p.comm);
    for (const p of all.filter((p) => /\/rehearse-infra-/.test(p.cmdline))) ours.set(p.pid, p.comm);
    for (const l of await listenersOf(ours)) listeners.set(`${l.process} ${l.address}:${l.port}`, l);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const code = await exited;
  let report: Report;
  try {
    report = JSON.parse(stdout) as Report;
  } catch {
    // Exit 2 (the rehearsal could not run) prints its reason on stderr, no report.
    if (code === 2) return { code, report: undefined as unknown as Report, stderr, listeners: [...listeners.values()] };
    throw new Error(`rehearse printed no JSON (exit ${code}):\n${stderr.slice(-3000)}`);
  }
  return { code, report, stderr, listeners: [...listeners.values()] };
}

const verdictOf = (report: Report, id: string) => report.verdicts.find((v) => v.kustomization === id);
const comparisonOf = (report: Report, id: string) => report.comparison.find((c) => c.kustomization === id);

/** What rehearsals left: their folders in the temporary folder, and processes naming one. */
function leftovers(): string[] {
  return [
    ...readdirSync(os.tmpdir()).filter((entry) => entry.startsWith('rehearse-infra-')).map((entry) => path.join(os.tmpdir(), entry)),
    ...processes().filter((p) => /\/rehearse-infra-/.test(p.cmdline)).map((p) => `pid ${p.pid}: ${p.cmdline}`),
  ];
}

/**
 * Starts a rehearsal and sends `signal` once Flux's controllers work on the served tree (the kwok
 * components, the controllers and the git server all running); returns the folder it used and how it exited.
 */
async function interruptedRehearsal(signal: NodeJS.Signals): Promise<{ dir: string; code: number | null; stderr: string }> {
  const child = spawn('node', ['tasks/rehearse.ts', '--cluster', 'infra'], { cwd: workspaceRoot, env: testEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  for (let waited = 0; waited < 240; waited++) {
    // kwokctl runs each component from a copy in the cluster's folder: <dir>/kwok/clusters/<name>/bin/.
    const component = processes().find((p) => /\/rehearse-infra-[^/ ]+\/kwok\/clusters\/[^/]+\/bin\/kube-apiserver/.test(p.cmdline));
    if (component && stderr.includes('Flux reconciles')) {
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return { dir: /(\/tmp\/rehearse-infra-[^/ ]+)/.exec(component.cmdline)![1]!, code, stderr };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill('SIGKILL');
  throw new Error(`the rehearsal never got to Flux:\n${stderr.slice(-2000)}`);
}

describe('rehearse: Flux brings the tree up from empty, audit beside it', () => {
  it('the example tree: every Kustomization Ready, the PrometheusRules and VMRules exist, audit and Flux agree, loopback only; a killed rehearsal is cleaned up by the next', async () => {
    const { dir: left } = await interruptedRehearsal('SIGKILL');
    expect(processes().filter((p) => p.cmdline.includes(left)).length).toBeGreaterThan(0);
    // The served tree's git repositories live in the rehearsal's folder: swept with it.
    expect(readdirSync(left).some((entry) => entry.startsWith('rehearsal-git-'))).toBe(true);
    const { code, report, stderr, listeners } = await rehearse([]);
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(stderr).toContain(`removed the cluster of a rehearsal that was killed: ${left}`);
    expect(processes().filter((p) => p.cmdline.includes(left))).toEqual([]);
    expect(existsSync(left)).toBe(false);
    expect(report.ended).toBe('all-ready');
    expect(report.verdicts.length).toBe(18);
    // The headline counts what Flux really did; coredns is Ready but its HelmRelease was not rehearsed (a clusterIP off loopback).
    expect(report.coverage.kustomizations).toEqual({ ready: 18, reached: 18, total: 18 });
    expect(report.coverage.readyNotRehearsed.map((r) => r.release)).toEqual(['kube-system/coredns']);
    // The issuers' Kustomization waits with healthCheckExprs: healthy through the declared simulation, said so.
    expect(report.simulatedStatuses).toEqual(expect.arrayContaining(['ClusterIssuer letsencrypt-production', 'ClusterSecretStore onepassword']));
    expect(report.verdicts.filter((v) => v.outcome !== 'ready')).toEqual([]);
    expect(report.customObjects['PrometheusRule']).toBeGreaterThanOrEqual(9);
    expect(report.customObjects['VMRule']).toBe(2);
    expect(report.comparison.filter((c) => !c.agreed)).toEqual([]);
    // The hand-off: Flux takes over every release core installed (a new revision), and the manifest
    // stays as it was: 01-core reads flux-instance's, cilium's, spegel's and external-secrets' values
    // from the tree, and cert-manager's other values render the same objects.
    const handover = new Map(report.handover.map((h) => [h.release, h]));
    expect(handover.get('flux-system/flux-instance')).toMatchObject({ audit: 'unchanged', before: 1, after: 2, manifestChanged: false, agreed: true });
    for (const release of ['kube-system/spegel', 'kube-system/cilium', 'external-secrets/external-secrets']) {
      expect(handover.get(release), release).toMatchObject({ audit: 'unchanged', manifestChanged: false, agreed: true });
    }
    expect(handover.get('cert-manager/cert-manager')).toMatchObject({ audit: 'upgrade', before: 1, after: 2, manifestChanged: false, agreed: true });
    expect(handover.get('kube-system/coredns')).toMatchObject({ unjudged: true });
    expect(report.handover.filter((h) => !h.agreed && !h.unjudged)).toEqual([]);
    // Synced as the FluxInstance core installed declares it: a GitRepository, cloned over smart HTTP on loopback.
    expect(report.sync).toEqual({ kind: 'GitRepository', name: 'flux-system', namespace: 'flux-system', path: 'kubernetes/flux/cluster', instance: 'flux-system/flux' });
    expect(stderr).toContain('from GitRepository flux-system/flux-system as FluxInstance flux-system/flux declares it');
    expect(report.listeners.every((l) => l.startsWith('127.0.0.1:'))).toBe(true);
    // The stand-ins say so wherever they show.
    expect(report.simulated.join('\n')).toContain('rehearsal stand-in for helm-controller');
    expect(report.helmReleases.filter((r) => r.ready).length).toBeGreaterThanOrEqual(8);
    // The controllers, the tree's artifact server, the kwok components and the webhook responder.
    expect(listeners.some((l) => l.process.includes('source-contr'))).toBe(true);
    expect(listeners.some((l) => l.process.includes('kustomize-con'))).toBe(true);
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
  });

  it('Ctrl-C while Flux works: the rehearsal stops its controllers, its git server and its cluster, and removes its folder', async () => {
    const { dir, code, stderr } = await interruptedRehearsal('SIGINT');
    expect(code, stderr.slice(-2000)).not.toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('race, in a tree synced from an OCIRepository: a Kustomization that no longer waits for the HelmRelease bringing its CRD fails under Flux with Flux’s own message, where the audit says (the tree named by BOOTSTRAP_GITOPS_ROOT, as Nx passes it: both halves judge it, and core installs its FluxInstance)', async () => {
    const oci = await ociSyncedEdits();
    const silenceKs = 'apps/observability/silence-operator/ks.yaml';
    const issuersKs = 'apps/cert-manager/cert-manager/ks.yaml';
    const root = await rehearsalVariant({
      ...oci,
      [silenceKs]: (t) => (oci[silenceKs] ?? ((x: string) => x))(t).replace('  dependsOn:\n    - name: silence-operator\n      namespace: observability\n', ''),
      // And a health check Flux cannot parse, in the same rehearsal.
      [issuersKs]: (t) => (oci[issuersKs] ?? ((x: string) => x))(t).replace("current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')", "current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == )"),
    });
    const { code, report, stderr } = await rehearse([], { BOOTSTRAP_GITOPS_ROOT: root });
    expect(code, stderr.slice(-3000)).toBe(1);
    expect(report.sync.kind).toBe('OCIRepository');
    const silences = verdictOf(report, 'observability/silence-operator-silences');
    expect(silences?.outcome).not.toBe('ready');
    expect(silences?.firstFailure).toMatch(/no matches for kind "Silence" in version "observability\.giantswarm\.io\/v1alpha2"/);
    const compared = comparisonOf(report, 'observability/silence-operator-silences');
    expect(compared?.audit).toContain('race observability.giantswarm.io/v1alpha2 Silence');
    expect(compared?.agreed).toBe(true);
    // The CEL expression the audit refuses with Flux's own code, kustomize-controller refuses too.
    const issuers = comparisonOf(report, 'cert-manager/cert-manager-issuers');
    expect(issuers?.audit).toMatch(/^cel/);
    expect(verdictOf(report, 'cert-manager/cert-manager-issuers')).toMatchObject({ outcome: 'not-ready' });
    expect(issuers?.flux, JSON.stringify(issuers)).toContain('failed to parse the CEL expression');
    expect(issuers?.agreed).toBe(true);
    expect(report.comparison.filter((c) => !c.agreed && !c.accepted)).toEqual([]);
  });

  it('a second repository: the one gitops.sources maps is served from its checkout and its Kustomization comes up; the unmapped one is not rehearsed, accepted only with Flux\'s "artifact not found"; a readyExpr Flux checks instead of Ready is the race the audit says', async () => {
    // As real trees declare another repository: a GitRepository beside its Kustomization in ks.yaml
    // (namespace from apps/default/kustomization.yaml), an SSH url with a deploy key, a tag.
    const sources = [
      'apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: home-ops-private\nspec:\n  interval: 1h\n  url: ssh://git@github.com/example/home-ops-private\n  ref:\n    tag: v1.4.0\n  secretRef:\n    name: home-ops-private-deploy-key\n',
      'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: private-config\nspec:\n  interval: 1h\n  path: ./kubernetes/private\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: home-ops-private\n  targetNamespace: default\n  wait: false\n',
      'apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: vendor-config\nspec:\n  interval: 1h\n  url: https://github.com/example/vendor-config\n  ref:\n    branch: main\n',
      'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: vendor-config\nspec:\n  interval: 1h\n  path: ./deploy\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: vendor-config\n  targetNamespace: default\n',
    ];
    // In the same tree and rehearsal: a readyExpr that holds before its dependency is Ready, which
    // Flux checks instead of Ready once the FluxInstance no longer turns on AdditiveCELDependencyCheck.
    const withoutGate = (t: string) => t.replace(/  kustomize:\n    patches:\n[\s\S]*$/, '');
    const tree = await rehearsalVariant({
      'apps/default/private-config/ks.yaml': () => sources.map((d) => `---\n${d}`).join(''),
      'apps/default/kustomization.yaml': (t) => t.replace('  - ./echo/ks.yaml\n', '  - ./echo/ks.yaml\n  - ./private-config/ks.yaml\n'),
      [FLUX_INSTANCE_VALUES]: withoutGate,
      'apps/observability/silence-operator/ks.yaml': (t) =>
        t.replace('    - name: silence-operator\n      namespace: observability\n', '    - name: silence-operator\n      namespace: observability\n      readyExpr: dep.metadata.generation == dep.metadata.generation\n'),
      // And a hand-off that changes objects: the HelmRelease sets spegel's hostPort inline, over the
      // values file 01-core reads too.
      'apps/kube-system/spegel/app/helmrelease.yaml': (t) => `${t}  values:\n    service:\n      registry:\n        hostPort: 30020\n`,
    });
    const checkout = await mkdtemp(path.join(os.tmpdir(), 'home-ops-private-'));
    try {
      await mkdir(path.join(checkout, 'kubernetes/private'), { recursive: true });
      await writeFile(path.join(checkout, 'kubernetes/private/kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./configmap.yaml\n');
      await writeFile(path.join(checkout, 'kubernetes/private/configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: private-settings\ndata:\n  mode: private\n');
      await withWorkspaceCopy(async (copy) => {
        await copy.edit('clusters/infra/cluster.yaml', (t) => t.replace('  entry: kubernetes/flux/cluster\n', `  entry: kubernetes/flux/cluster\n  sources:\n    GitRepository/default/home-ops-private: ${checkout}\n`));
        // The CRD bundle as rendered in the checkout: the copy's 00-crds inputs are the same.
        await cp(path.join(workspaceRoot, 'dist/crds/infra'), copy.file('dist/crds/infra'), { recursive: true });
        const { code, report, stderr, listeners } = await rehearse(['--gitops-root', tree], {}, copy.root);
        expect(code, stderr.slice(-3000)).toBe(1);
        expect(stderr).toContain('served from its checkout in gitops.sources, on loopback: kubernetes/apps/default/private-config/ks.yaml (GitRepository home-ops-private)');
        expect(verdictOf(report, 'default/private-config')?.outcome).toBe('ready');
        expect(comparisonOf(report, 'default/private-config')).toMatchObject({ audit: 'comes up', agreed: true });
        const vendor = verdictOf(report, 'default/vendor-config');
        // Which of Flux's two messages depends on whether kustomize-controller read the Kustomization
        // before or after its GitRepository was created: both say the source has no artifact.
        expect(vendor).toMatchObject({ outcome: 'not-ready', message: expect.stringMatching(/^(Source artifact not found|GitRepository\.source\.toolkit\.fluxcd\.io "vendor-config" not found)/) });
        expect(comparisonOf(report, 'default/vendor-config')?.accepted).toContain('built from another source (GitRepository default/vendor-config), not rehearsed');
        const silences = comparisonOf(report, 'observability/silence-operator-silences');
        expect(silences?.audit).toMatch(/^race observability\.giantswarm\.io\/v1alpha2 Silence/);
        expect(verdictOf(report, 'observability/silence-operator-silences')?.firstFailure).toMatch(/no matches for kind "Silence"/);
        expect(silences?.agreed).toBe(true);
        expect(report.comparison.filter((c) => !c.agreed && !c.accepted)).toEqual([]);
        // The manifest changes exactly where the audit's renders of both sides differ.
        expect(report.handover.find((h) => h.release === 'kube-system/spegel')).toMatchObject({ audit: 'upgrade', manifestChanged: true, agreed: true });
        // vendor-config never comes up; the silences come up on a retry only if it happens before the watch ends.
        const notReady = report.verdicts.filter((v) => v.outcome === 'not-ready').map((v) => v.kustomization).sort();
        const recovered = verdictOf(report, 'observability/silence-operator-silences')?.outcome === 'recovered';
        expect(notReady).toEqual(recovered ? ['default/vendor-config'] : ['default/vendor-config', 'observability/silence-operator-silences']);
        expect(report.coverage.kustomizations).toEqual({ ready: 20 - notReady.length, reached: 20, total: 20 });
        expect(report.listeners.every((l) => l.startsWith('127.0.0.1:'))).toBe(true);
        expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
      });
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
  });

  it('the Prometheus CRDs out of 00-crds and served only after external-secrets: its ServiceMonitor is never created, as the audit says; a health check only a controller behind it can pass waits forever, as the audit says', async () => {
    const silenceCrd = await readFile(path.join(workspaceRoot, 'test/fixtures/charts/silence-operator/crds/observability.giantswarm.io_silences.yaml'), 'utf8');
    const tree = await rehearsalVariant({
      // The tree's own HelmRelease serves the Prometheus kinds, once external-secrets is Ready (and
      // cilium, which core installs, no longer asks for a ServiceMonitor it trusts to be served).
      'apps/kube-system/cilium/app/helm/values.yaml': (t) => t.replace('  serviceMonitor:\n    enabled: true\n', '  serviceMonitor:\n    enabled: false\n'),
      // external-secrets' own PrometheusRule would now wait for a kind served only behind it: left out.
      'apps/external-secrets/external-secrets/app/kustomization.yaml': (t) => t.replace('  - ./prometheusrule.yaml\n', ''),
      'apps/observability/prometheus-operator-crds/ks.yaml': (t) => t.replace('  interval: 1h\n', '  dependsOn:\n    - name: external-secrets\n      namespace: external-secrets\n  interval: 1h\n'),
      // The silences bring the Silence CRD themselves and check each Silence's Ready by CEL; silence-operator, which runs the controller, waits for them.
      'apps/observability/silence-operator/silences/crd.yaml': () => silenceCrd,
      'apps/observability/silence-operator/silences/kustomization.yaml': (t) => t.replace('  - ./node-maintenance.yaml\n', '  - ./crd.yaml\n  - ./node-maintenance.yaml\n'),
      'apps/observability/silence-operator/ks.yaml': (t) =>
        t
          .replace('  name: &app silence-operator\nspec:\n', '  name: &app silence-operator\nspec:\n  dependsOn:\n    - name: silence-operator-silences\n')
          .replace('  dependsOn:\n    - name: silence-operator\n      namespace: observability\n', "  healthCheckExprs:\n    - apiVersion: observability.giantswarm.io/v1alpha2\n      kind: Silence\n      current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')\n")
          .replace(/  timeout: 5m\n  wait: false\n$/, '  timeout: 5m\n  wait: true\n'),
    });
    await withCrdsHelmfile(dropRelease('prometheus-operator-crds'), async (copy) => {
      const render = await copy.run`nx run infra:render-crds --outputStyle=stream`;
      expect(render.exitCode, render.stdout + render.stderr).toBe(0);
      const { code, report, stderr } = await rehearse(['--gitops-root', tree], {}, copy.root);
      expect(code, stderr.slice(-3000)).toBe(1);
      // helm renders external-secrets with the kinds served when it installs, as helm-controller does.
      expect(report.capabilities).toEqual([
        expect.objectContaining({ helmRelease: 'external-secrets/external-secrets', audit: 'never creates Service external-secrets/external-secrets-metrics, ServiceMonitor external-secrets/external-secrets-metrics', rehearsal: 'installed without them', agreed: true }),
      ]);
      expect(verdictOf(report, 'observability/prometheus-operator-crds')?.outcome).toBe('ready');
      const silences = comparisonOf(report, 'observability/silence-operator-silences');
      expect(silences?.audit).toMatch(/^health-check observability\.giantswarm\.io\/v1alpha2 Silence/);
      expect(verdictOf(report, 'observability/silence-operator-silences')?.outcome).toBe('not-ready');
      expect(silences?.agreed, JSON.stringify(silences)).toBe(true);
      expect(comparisonOf(report, 'observability/silence-operator')).toMatchObject({ agreed: true });
      expect(report.comparison.filter((c) => !c.agreed && !c.accepted), JSON.stringify(report.comparison, null, 1)).toEqual([]);
      expect(leftovers()).toEqual([]);
    });
  });

  it('refused before any cluster, exit 2: a tree that names OCIRepository flux-system while the FluxInstance syncs a GitRepository (both files named), and a Bucket sync', async () => {
    const mismatched = await rehearsalVariant({ 'flux/cluster/ks.yaml': (t) => t.replace('kind: GitRepository\n    name: flux-system', 'kind: OCIRepository\n    name: flux-system') });
    const first = await rehearse([], { BOOTSTRAP_GITOPS_ROOT: mismatched });
    expect(first.code, first.stderr.slice(-3000)).toBe(2);
    expect(first.stderr).toContain('the synced source (release flux-instance in helmfile.d/01-core.yaml.gotmpl): the tree names another source than the one the bootstrap\'s FluxInstance syncs');
    expect(first.stderr).toContain('Kustomization flux-system/cluster-apps (kubernetes/flux/cluster/ks.yaml) names OCIRepository flux-system/flux-system, but the FluxInstance flux-system/flux creates GitRepository flux-system/flux-system');
    expect(first.stderr).not.toContain('starting a throwaway control plane');
    const bucket = await rehearsalVariant({ [FLUX_INSTANCE_VALUES]: (t) => t.replace('kind: GitRepository', 'kind: Bucket') });
    const second = await rehearse([], { BOOTSTRAP_GITOPS_ROOT: bucket });
    expect(second.code, second.stderr.slice(-3000)).toBe(2);
    expect(second.stderr).toMatch(/FluxInstance flux-system\/flux \(release flux-instance in helmfile.d\/01-core.yaml.gotmpl\): syncs a Bucket/);
    expect(second.stderr).not.toContain('starting a throwaway control plane');
  });

  // Four faults in one tree, far enough apart that none hides another (no Kustomization of one
  // depends on one of another), so that one rehearsal judges them all.
  it('one tree, four faults: a cycle never comes up; a missing kind and a HelmRelease without wait fail with Flux’s own message; operator-runtime kinds come up without their dependsOn; the audit says each', async () => {
    const route = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: echo\nspec:\n  hostnames: ["echo.${SECRET_DOMAIN}"]\n';
    const root = await rehearsalVariant({
      // Cycle: cert-manager waits for its own issuers.
      'apps/cert-manager/cert-manager/ks.yaml': (t) =>
        t.replace('  name: &app cert-manager\nspec:\n', '  name: &app cert-manager\nspec:\n  dependsOn:\n    - name: cert-manager-issuers\n'),
      // Missing kind: an HTTPRoute, whose CRD nothing in the tree or the bundle serves.
      'apps/default/echo/app/httproute.yaml': () => route,
      'apps/default/echo/app/kustomization.yaml': (t) => t.replace('  - ./externalsecret.yaml\n', '  - ./externalsecret.yaml\n  - ./httproute.yaml\n'),
      // Without wait: silence-operator's Kustomization is Ready before its chart installed the Silence CRD.
      'apps/observability/silence-operator/ks.yaml': (t) => t.replace('  timeout: 5m\n  wait: true\n', '  timeout: 5m\n  wait: false\n'),
      // Operator-runtime kinds: cilium-config no longer waits for cilium.
      'apps/kube-system/cilium/ks.yaml': (t) => t.replace('  dependsOn:\n    - name: cilium\n      namespace: kube-system\n', ''),
    });
    const { code, report, stderr } = await rehearse(['--gitops-root', root]);
    expect(code, stderr.slice(-3000)).toBe(1);
    expect(report.ended).toBe('settled');

    for (const id of ['cert-manager/cert-manager', 'cert-manager/cert-manager-issuers']) {
      expect(verdictOf(report, id)?.outcome).toBe('not-ready');
      expect(verdictOf(report, id)?.message).toMatch(/dependency '.*' is not ready/);
      expect(comparisonOf(report, id)?.audit).toContain('cycle');
      expect(comparisonOf(report, id)?.agreed).toBe(true);
    }

    expect(verdictOf(report, 'default/echo')?.outcome).toBe('not-ready');
    expect(verdictOf(report, 'default/echo')?.firstFailure).toMatch(/no matches for kind "HTTPRoute" in version "gateway\.networking\.k8s\.io\/v1"/);
    expect(comparisonOf(report, 'default/echo')?.audit).toContain('missing gateway.networking.k8s.io/v1 HTTPRoute');
    expect(comparisonOf(report, 'default/echo')?.agreed).toBe(true);

    const silences = comparisonOf(report, 'observability/silence-operator-silences');
    expect(silences?.audit).toMatch(/race .*Silence/);
    expect(verdictOf(report, 'observability/silence-operator-silences')?.firstFailure).toMatch(/no matches for kind "Silence"/);
    expect(silences?.agreed).toBe(true);

    expect(verdictOf(report, 'kube-system/cilium-config')?.outcome).toBe('ready');
    expect(comparisonOf(report, 'kube-system/cilium-config')).toMatchObject({ audit: 'comes up', agreed: true });
    expect(stderr).toMatch(/simulated cilium-operator: registered cilium\.io CiliumL2AnnouncementPolicy, cilium\.io CiliumLoadBalancerIPPool once release cilium was deployed/);
    expect(report.simulated.join('\n')).toContain('rehearsal.cluster-bootstrap.io/simulated-operator');

    expect(report.comparison.filter((c) => !c.agreed && !c.accepted)).toEqual([]);
    // A rehearsal with findings leaves nothing behind either.
    expect(leftovers()).toEqual([]);
  });
});
