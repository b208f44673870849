// The sandbox is real: API servers answering per context, server-side apply of a CRD over the
// client-side-apply limit, helm installing from and pulling out of the local OCI registry.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isCrd, type Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { applyCrd, readObject } from '../../tasks/lib/cluster/kube.ts';
import { parseManifests } from '../../tasks/lib/runtime/manifests.ts';
import { crdReadiness, deploymentReadiness } from '../../tasks/lib/cluster/readiness.ts';
import { waitUntilReady } from '../../tasks/lib/cluster/wait.ts';
import { kubeFor, registry, run } from '../helpers/sandbox.ts';

const ANNOTATION_LIMIT = 262_144;

async function fixtureCrd(chart: string, name: string, values: string[] = []): Promise<Crd> {
  const rendered = await run`helm template x test/fixtures/charts/${chart} --include-crds --skip-tests ${values}`;
  expect(rendered.exitCode, rendered.stderr).toBe(0);
  const crd = parseManifests(rendered.stdout, chart).filter(isCrd).find((c) => c.metadata.name === name);
  if (!crd) throw new Error(`${chart} renders no ${name}`);
  return crd;
}

describe('sandbox clusters', () => {
  it('each cluster answers under its own context, and they are different clusters', async () => {
    const uids = await Promise.all(
      ['infra', 'apps'].map(async (name) => {
        const kube = kubeFor(name);
        const namespace = await kube.core.readNamespace({ name: 'kube-system' });
        const nodes = await kube.core.listNode();
        expect(nodes.items.length).toBeGreaterThan(0);
        return namespace.metadata?.uid;
      }),
    );
    expect(uids[0]).toBeTruthy();
    expect(uids[0]).not.toBe(uids[1]);
  });

  it('rejects a CRD over 256 KB applied client-side, and establishes it applied server-side (E4)', async () => {
    const kube = kubeFor('apps');
    const crd = await fixtureCrd('prometheus-operator-crds', 'prometheuses.monitoring.coreos.com');
    const json = JSON.stringify(crd);
    expect(Buffer.byteLength(json)).toBeGreaterThan(ANNOTATION_LIMIT);

    // What kubectl's client-side apply sends: the whole object in an annotation.
    const clientSide = {
      ...crd,
      metadata: { ...crd.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': json } },
    };
    await expect(applyCrd(kube, clientSide, { dryRun: true })).rejects.toThrow(/Too long/);

    await applyCrd(kube, crd);
    await waitUntilReady(
      [crd.metadata.name],
      async () => {
        const live = await readObject<KubernetesObject>(kube, { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: crd.metadata.name } });
        return new Map(live ? [[crd.metadata.name, crdReadiness(live)]] : []);
      },
      { timeoutMs: 60_000, what: 'the large CRD' },
    );
    // x-kubernetes-* schema keys survive the client (client-node #2962). The typed client reads
    // them back as x_kubernetes_*; every one the chart rendered must be in the cluster.
    const rendered = json.match(/"x-kubernetes-[a-z-]+"/g) ?? [];
    expect(rendered.length).toBeGreaterThan(0);
    const live = await kube.apiextensions.readCustomResourceDefinition({ name: crd.metadata.name });
    expect(JSON.stringify(live).match(/"x_kubernetes_[a-z_]+"/g)?.length).toBe(rendered.length);
  });
});

describe('helm against the sandbox registry', () => {
  const scratch = mkdtemp(path.join(os.tmpdir(), 'helm-pull-'));
  afterAll(async () => {
    await run`helm uninstall e2e-coredns --namespace e2e-helm --kube-context kwok-apps --wait`;
    await kubeFor('apps').core.deleteNamespace({ name: 'e2e-helm' }).catch(() => undefined);
    await rm(await scratch, { recursive: true, force: true });
  });

  it('pulls a stand-in chart over plain HTTP, and fails clearly without --plain-http', async () => {
    const dir = await scratch;
    const pulled = await run`helm pull ${`oci://${registry}/ghcr.io/prometheus-community/charts/prometheus-operator-crds`} --version 31.0.1 --plain-http --destination ${dir}`;
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    expect(await readdir(dir)).toEqual(['prometheus-operator-crds-31.0.1.tgz']);

    const https = await run`helm pull ${`oci://${registry}/ghcr.io/prometheus-community/charts/prometheus-operator-crds`} --version 31.0.1 --destination ${dir}`;
    expect(https.exitCode).not.toBe(0);
    expect(https.stderr).toContain('server gave HTTP response to HTTPS client');
  });

  it('installs a Deployment from a stand-in chart that becomes available', async () => {
    const coredns = `oci://${registry}/ghcr.io/coredns/charts/coredns`;
    const installed = await run`helm install e2e-coredns ${coredns} --plain-http --namespace e2e-helm --create-namespace --wait --timeout 180s --kube-context kwok-apps`;
    expect(installed.exitCode, installed.stderr).toBe(0);
    const kube = kubeFor('apps');
    const deployments = await kube.objects.list('apps/v1', 'Deployment', 'e2e-helm');
    expect(deployments.items.length).toBeGreaterThan(0);
    for (const deployment of deployments.items) expect(deploymentReadiness(deployment)).toMatchObject({ ready: true });
  });
});

describe('bring your own charts: sandbox push', () => {
  it('pushes packaged charts at their upstream path, resumably, and refuses one whose path it cannot know', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'byo-charts-'));
    try {
      const chart = path.join(dir, 'e2e-byo');
      await mkdir(path.join(chart, 'templates'), { recursive: true });
      await writeFile(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: e2e-byo\nversion: 0.1.0\n');
      await writeFile(path.join(chart, 'templates', 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: byo\ndata: {}\n');
      const packaged = await run`helm package ${chart} --destination ${dir}`;
      expect(packaged.exitCode, packaged.stderr).toBe(0);

      const unknown = await run`node scripts/sandbox.ts push ${dir}`;
      expect(unknown.exitCode).toBe(1);
      expect(unknown.stderr).toContain('chart e2e-byo');
      expect(unknown.stderr).toContain('its upstream path is unknown');
      expect(unknown.stderr).toContain('fix: pass it: --path <registry host>/<repository>');

      const first = await run`node scripts/sandbox.ts push ${dir} --path example.com/charts`;
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stderr).toContain(`pushed ${registry}/example.com/charts/e2e-byo:0.1.0`);
      const again = await run`node scripts/sandbox.ts push ${path.join(dir, 'e2e-byo-0.1.0.tgz')} --path example.com/charts`;
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toContain(`${registry}/example.com/charts/e2e-byo:0.1.0 is already there`);
      expect(again.stderr).toContain('1 chart(s): 0 pushed, 1 already there');

      await mkdir(path.join(dir, 'pulled'));
      const pulled = await run`helm pull ${`oci://${registry}/example.com/charts/e2e-byo`} --version 0.1.0 --plain-http --destination ${path.join(dir, 'pulled')}`;
      expect(pulled.exitCode, pulled.stderr).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
