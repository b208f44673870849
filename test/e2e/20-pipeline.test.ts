// The bootstrap pipeline end to end in the sandbox: both clusters bootstrap, a rerun changes
// nothing, affected tasks follow the inputs, the identity guard refuses the wrong cluster,
// and a failed core phase resumes with the render served from the Nx cache.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { readObject, serverSideApply } from '../../tasks/lib/cluster/kube.ts';
import { readManifests } from '../../tasks/lib/runtime/manifests.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { affectedTasks } from '../helpers/nx.ts';
import { kubeFor, registry, run } from '../helpers/sandbox.ts';
import { withWorkspaceCopy } from '../helpers/workspace-copy.ts';

const prometheusRule = path.join(workspaceRoot, 'kubernetes/apps/kube-system/coredns/app/prometheusrule.yaml');
const crdHeader = (name: string): KubernetesObject => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } });

async function dryRunPrometheusRule(cluster: string): Promise<string> {
  const [source] = await readManifests([prometheusRule]);
  try {
    await serverSideApply(kubeFor(cluster), source!.object, { dryRun: true });
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('bootstrap pipeline', () => {
  it('before the CRD phase, the GitOps layer fails with "no matches for kind"', async () => {
    // Make the precondition true even when the sandbox was reused: remove the CRD if present.
    const kube = kubeFor('apps');
    if (await readObject(kube, crdHeader('prometheusrules.monitoring.coreos.com'))) {
      await kube.apiextensions.deleteCustomResourceDefinition({ name: 'prometheusrules.monitoring.coreos.com' });
      for (let i = 0; i < 100 && (await readObject(kube, crdHeader('prometheusrules.monitoring.coreos.com'))); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(await dryRunPrometheusRule('apps')).toBe(
      'PrometheusRule kube-system/coredns: server-side dry-run failed: no matches for kind "PrometheusRule" in version "monitoring.coreos.com/v1" (the cluster does not serve it)\n' +
        '  fix: install its CRD first: that is what the crds phase does (nx run <cluster>:crds)',
    );
  });

  it('bootstraps both clusters, then the GitOps layer is accepted', async () => {
    const result = await run`nx run-many -t bootstrap -p infra,apps --outputStyle=stream`;
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    const output = result.stdout + result.stderr;
    for (const cluster of ['infra', 'apps']) {
      for (const phase of ['prereqs', 'crds', 'core', 'verify']) expect(output).toContain(`[${cluster}] ✔ ${phase} done in`);
      expect(output).toMatch(new RegExp(`\\[${cluster}\\] ✔ GitOps first layer \\(built as Flux builds it\\): \\d+ objects accepted by a server-side dry-run`));
      expect(output).toContain(`[${cluster}] ✔ FluxInstance flux-system/flux: Ready=True`);
    }
    expect(await dryRunPrometheusRule('apps')).toBe('accepted');
    expect(await dryRunPrometheusRule('infra')).toBe('accepted');
  });

  it('a second bootstrap is served from the cache: the cluster is exactly as each phase left it', async () => {
    const result = await run`nx run-many -t bootstrap -p infra,apps --outputStyle=stream`;
    const output = result.stdout + result.stderr;
    expect(result.exitCode, output).toBe(0);
    for (const cluster of ['infra', 'apps']) {
      for (const target of ['render-crds', 'prereqs', 'crds', 'core', 'verify']) {
        expect(output).toMatch(new RegExp(`${cluster}:${target}.*(local cache|existing outputs match the cache)`));
      }
    }
  });

  it('a CRD deleted by hand is a cache miss: that cluster runs its phases again and recreates it, the other stays cached', async () => {
    const kube = kubeFor('apps');
    const name = 'servicemonitors.monitoring.coreos.com';
    await kube.apiextensions.deleteCustomResourceDefinition({ name });
    for (let i = 0; i < 100 && (await readObject(kube, crdHeader(name))); i++) await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await run`nx run-many -t bootstrap -p infra,apps --outputStyle=stream`;
    const output = result.stdout + result.stderr;
    expect(result.exitCode, output).toBe(0);
    expect(output).toContain(`[apps] ✔ CRD ${name} created`);
    expect(output).toMatch(/\[apps\] ✔ CRDs: 1 applied, \d+ up to date/);
    expect(output).toContain('[apps] ✔ verify done in');
    expect(output).toMatch(/infra:crds.*(local cache|existing outputs match the cache)/);
    expect(await readObject(kube, crdHeader(name))).toBeDefined();
  });

  it('core trusts its record only while helm agrees: an upgrade by hand brings the full plan back, which syncs the release back', async () => {
    const chart = `oci://${registry}/ghcr.io/coredns/charts/coredns`;
    const byHand = await run`helm upgrade coredns ${chart} --version 1.47.1 --namespace kube-system --kube-context kwok-apps --plain-http --reuse-values --set replicaCount=2 --wait --timeout 120s`;
    expect(byHand.exitCode, byHand.stderr).toBe(0);
    const resynced = await run`node tasks/core.ts --cluster apps`;
    expect(resynced.exitCode, resynced.stderr).toBe(0);
    expect(resynced.stderr).toMatch(/planning every release: kube-system\/coredns changed since the last sync \(revision \d+ → \d+\)/);
    expect(resynced.stderr).toMatch(/kube-system\/coredns: upgrade/);
    const rerun = await run`node tasks/core.ts --cluster apps`;
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/all \d+ core releases are up to date \(inputs unchanged and every release at its recorded helm revision, all \d+ objects of their manifests present\)/);
  });

  it('a custom resource of a release deleted behind helm\'s back (with its CRD, or by hand) makes core upgrade that release, which recreates it', async () => {
    const kube = kubeFor('apps');
    const flux = { group: 'fluxcd.controlplane.io', version: 'v1', plural: 'fluxinstances', namespace: 'flux-system', name: 'flux' };
    await kube.customObjects.deleteNamespacedCustomObject(flux);
    const resynced = await run`node tasks/core.ts --cluster apps`;
    expect(resynced.exitCode, resynced.stderr).toBe(0);
    expect(resynced.stderr).toContain('planning every release: missing from the cluster: flux-system/flux-instance: FluxInstance flux-system/flux');
    expect(resynced.stderr).toContain('flux-system/flux-instance: upgrade (missing from the cluster: FluxInstance flux-system/flux)');
    expect(resynced.stderr).toContain('repaired release flux-system/flux-instance: put back FluxInstance flux-system/flux');
    expect(await kube.customObjects.getNamespacedCustomObject(flux)).toMatchObject({ metadata: { name: 'flux' } });
  });

  it('nx affected follows the inputs: chart bump → both clusters, apps values → apps, unrelated → nothing', async () => {
    const targets = ['render-crds', 'crds', 'core'];
    const bump = await affectedTasks(targets, 'helmfile.d/00-crds.yaml.gotmpl');
    for (const task of ['infra:render-crds', 'infra:crds', 'infra:core', 'apps:render-crds', 'apps:crds', 'apps:core']) expect(bump).toContain(task);
    const apps = await affectedTasks(targets, 'clusters/apps/values.yaml');
    expect(apps.filter((t) => t.startsWith('infra:'))).toEqual([]);
    expect(apps).toEqual(expect.arrayContaining(['apps:render-crds', 'apps:crds', 'apps:core']));
    expect(await affectedTasks(targets, 'README.md')).toEqual([]);
  });

  it('the identity guard refuses a context that points at the other cluster, and writes nothing', async () => {
    const result = await run`node tasks/prereqs.ts --cluster infra --context kwok-apps`;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'clusters/infra/cluster.yaml: identity.server: context "kwok-apps" points at https://127.0.0.1:16444, but cluster "infra" pins https://127.0.0.1:16443; refusing to touch it',
    );
    // infra's secret would have been written to apps had the guard not stopped it.
    expect(await readObject(kubeFor('apps'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cloudflare-api-token', namespace: 'cert-manager' } })).toBeUndefined();
  });

  it('a bad release value fails core naming the release; after the fix bootstrap resumes with the render from cache', async () => {
    // The bad value lives in a copy of the workspace; the fix is going back to the checkout.
    await withWorkspaceCopy(async (copy) => {
      await copy.edit('clusters/infra/values.yaml', (text) => text.replace('chartValues: {}', 'chartValues:\n  coredns:\n    replicaCount: -1'));
      const failed = await copy.run`nx run infra:bootstrap --outputStyle=stream`;
      const failedOutput = failed.stdout + failed.stderr;
      expect(failed.exitCode).not.toBe(0);
      expect(failedOutput).toContain('core failed: release "coredns" in helmfile.d/01-core.yaml.gotmpl: helmfile sync failed');
      expect(failedOutput).toContain('[infra] ✔ crds done in');
    });
    const resumed = await run`nx run infra:bootstrap --outputStyle=stream`;
    const output = resumed.stdout + resumed.stderr;
    expect(resumed.exitCode, output).toBe(0);
    expect(output).toMatch(/infra:render-crds.*(local cache|existing outputs match the cache)/);
    expect(output).toContain('[infra] ✔ verify done in');
  });
});
