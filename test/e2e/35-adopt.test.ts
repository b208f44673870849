// Adopting a cluster bootstrapped the old way, as the migration procedure of docs/adoption.md says.
// external-secrets was installed with installCRDs=true (the real chart's CRDs carry no
// helm.sh/resource-policy: keep), and its version 2.8.0 had one more CRD than 2.9.0 (a chart
// bump that drops a CRD). Custom resources of several kinds exist. plan, then bootstrap: every
// CRD and every object must still be there, unchanged, and verify must pass.
// Before the keep policy this lost 17 CRDs and every ExternalSecret and SecretStore with them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { listCrds } from '../../tasks/lib/cluster/kube.ts';
import { readObject, serverSideApply } from '../../tasks/lib/cluster/kube.ts';
import { kubeFor, registry, run } from '../helpers/sandbox.ts';
import { publishVariant } from '../helpers/variants.ts';

const kube = kubeFor('apps');
const namespace = 'external-secrets';
const legacyCrd = 'legacytokens.generators.external-secrets.io';
const chart = `oci://${registry}/ghcr.io/external-secrets/charts/external-secrets`;
const isExternalSecretsCrd = (name: string) => name.endsWith('external-secrets.io');

const customResources: Array<KubernetesObject & { spec: unknown }> = [
  { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'vault-backend' }, spec: { provider: { vault: { server: 'https://vault.example.com', path: 'secret' } } } },
  { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'team-store', namespace }, spec: { provider: { fake: { data: [{ key: 'k', value: 'v' }] } } } },
  {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name: 'db-credentials', namespace },
    spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 'vault-backend' }, data: [{ secretKey: 'password', remoteRef: { key: 'db/password' } }] },
  },
  { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'LegacyToken', metadata: { name: 'old-token', namespace }, spec: { scope: 'read' } },
];

type Snapshot = Map<string, string>;

/** uid and spec of every external-secrets CRD and custom resource: equal before and after means nothing was lost or replaced. */
async function snapshot(): Promise<Snapshot> {
  const result: Snapshot = new Map();
  for (const [name, crd] of await listCrds(kube)) {
    if (isExternalSecretsCrd(name)) result.set(`crd ${name}`, crd.metadata?.uid ?? '');
  }
  for (const object of customResources) {
    const live = await readObject<KubernetesObject & { spec?: unknown }>(kube, object);
    result.set(`${object.kind} ${object.metadata?.name}`, live ? `${live.metadata?.uid} ${JSON.stringify(live.spec)}` : 'missing');
  }
  return result;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The old way: the release owns its CRDs. Starts from no external-secrets release and no CRD of its groups. */
async function installTheOldWay(): Promise<void> {
  await run`helm uninstall external-secrets --namespace ${namespace} --kube-context kwok-apps --wait`;
  const crds = [...(await listCrds(kube)).keys()].filter(isExternalSecretsCrd);
  for (const name of crds) await kube.apiextensions.deleteCustomResourceDefinition({ name });
  await until('external-secrets CRDs to be deleted', async () => [...(await listCrds(kube)).keys()].every((n) => !isExternalSecretsCrd(n)));

  const installed = await run`helm install external-secrets ${chart} --version 2.8.0 --namespace ${namespace} --set installCRDs=true --plain-http --kube-context kwok-apps --wait --timeout 120s`;
  expect(installed.exitCode, installed.stderr).toBe(0);
  // Discovery serves a new CRD's kind a moment after it is Established.
  for (const object of customResources) {
    await until(`${object.kind} to be accepted`, async () => {
      try {
        await serverSideApply(kube, object);
        return true;
      } catch {
        return false;
      }
    });
  }
}

describe('adopting a cluster bootstrapped the old way', () => {
  beforeAll(async () => {
    // 2.8.0: the same chart with one more CRD, which 2.9.0 dropped.
    await publishVariant({
      chart: 'external-secrets',
      from: '2.9.0',
      to: '2.8.0',
      edit: {
        'templates/crds/password.yaml': (text) =>
          `${text.trimEnd()}\n---\n{{- if .Values.installCRDs }}\n{{ include "external-secrets.generatorCRD" (dict "root" . "plural" "legacytokens" "singular" "legacytoken" "kind" "LegacyToken") }}\n{{- end }}\n`,
      },
    });
    await installTheOldWay();
  });

  afterAll(async () => {
    // The dropped CRD stays in the cluster by design; remove it so later runs start clean.
    await kube.apiextensions.deleteCustomResourceDefinition({ name: legacyCrd }).catch(() => undefined);
  });

  it('the old-way install really is one: the release owns its CRDs and none carries the keep policy', async () => {
    const manifest = await run`helm get manifest external-secrets --namespace ${namespace} --kube-context kwok-apps`;
    expect(manifest.stdout).toContain(`name: ${legacyCrd}`);
    const live = [...(await listCrds(kube)).values()].filter((c) => isExternalSecretsCrd(c.metadata?.name ?? ''));
    expect(live.length).toBeGreaterThan(10);
    expect(live.filter((c) => c.metadata?.annotations?.['helm.sh/resource-policy'])).toEqual([]);
  });

  it('plan shows the adoption: CRDs owned, taken over, kept from deletion, and the one in no bundle', async () => {
    expect((await run`nx run apps:render-crds --outputStyle=stream`).exitCode).toBe(0);
    const json = await run`node tasks/plan.ts --cluster apps --json`;
    expect(json.exitCode, json.stderr).toBe(0);
    const { adopt } = JSON.parse(json.stdout) as {
      adopt: Array<{ release: string; owned: string[]; takenOver: string[]; protected: string[]; unbundled: string[]; managers: Array<{ from: string[]; to: string }> }>;
    };
    const externalSecrets = adopt.find((a) => a.release === 'external-secrets');
    expect(externalSecrets).toBeDefined();
    expect(externalSecrets!.owned).toContain(legacyCrd);
    expect(externalSecrets!.takenOver).toHaveLength(externalSecrets!.owned.length - 1);
    expect(externalSecrets!.protected).toEqual(externalSecrets!.owned);
    expect(externalSecrets!.unbundled).toEqual([legacyCrd]);
    expect(externalSecrets!.managers.length).toBe(externalSecrets!.takenOver.length);
    expect(externalSecrets!.managers.every((m) => m.to === 'cluster-bootstrap' && m.from.includes('helm'))).toBe(true);

    const text = await run`node tasks/plan.ts --cluster apps`;
    expect(text.stdout).toContain(`ADOPT  release external-secrets/external-secrets owns ${externalSecrets!.owned.length} CRDs today`);
    expect(text.stdout).toContain(`    ${legacyCrd}: in no bundle: kept and reported, never deleted`);
  });

  it('bootstrap keeps every CRD and every object, unchanged, and verify passes', async () => {
    const before = await snapshot();
    expect([...before.values()]).not.toContain('missing');
    const result = await run`nx run apps:bootstrap --outputStyle=stream`;
    const output = result.stdout + result.stderr;
    const after = await snapshot();
    // Data first: the CRDs (same uids) and the objects (same uids and specs).
    expect(after).toEqual(before);
    expect(result.exitCode, output).toBe(0);

    const bundled = [...before.keys()].filter((k) => k.startsWith('crd ') && !k.endsWith(legacyCrd)).length;
    expect(output).toContain(`[apps] ✔ kept ${bundled} CRDs of external-secrets from deletion by Helm: the crds phase owns them`);
    expect(output).toContain(`[apps] ⚠ CRD ${legacyCrd} leaves release external-secrets/external-secrets and is in no bundle: kept`);
    expect(output).toMatch(/\[apps\] ✔ custom resources counted before and after the sync: \d+ objects of \d+ CRDs, none lost/);
    expect(output).toContain('[apps] ✔ verify done in');
    const releases = await run`helm list --namespace ${namespace} --kube-context kwok-apps --output json`;
    expect(JSON.parse(releases.stdout)).toMatchObject([{ name: 'external-secrets', chart: 'external-secrets-2.9.0', status: 'deployed' }]);
    const legacy = await readObject(kube, { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: legacyCrd } });
    expect(legacy?.metadata?.annotations?.['helm.sh/resource-policy']).toBe('keep');
    // Adopted CRDs keep Helm's annotations (and its field manager): a rerun must still be a no-op.
    const rerun = await run`node tasks/crds.ts --cluster apps`;
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/✔ CRDs: 0 applied, \d+ up to date/);
  });

  it('a sync that deletes custom resources stops the run, naming the kind and both counts', async () => {
    // 2.7.0 renders a ClusterSecretStore of its own; 2.9.0 does not, so Helm deletes it on upgrade.
    await publishVariant({
      chart: 'external-secrets',
      from: '2.9.0',
      to: '2.7.0',
      edit: {
        'templates/webhook-service.yaml': (text) =>
          `${text.trimEnd()}\n---\napiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: chart-default\nspec:\n  provider:\n    fake:\n      data: []\n`,
      },
    });
    const upgraded = await run`helm upgrade external-secrets ${chart} --version 2.7.0 --namespace ${namespace} --set installCRDs=false --plain-http --kube-context kwok-apps --wait --timeout 120s`;
    expect(upgraded.exitCode, upgraded.stderr).toBe(0);
    const stores = async () => (await kube.objects.list('external-secrets.io/v1', 'ClusterSecretStore')).items.length;
    const before = await stores();
    expect(before).toBe(2);

    const result = await run`node tasks/core.ts --cluster apps`;
    expect(result.stderr).toContain('⚠ helm will delete ClusterSecretStore chart-default: release external-secrets no longer renders it');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('✗ core failed: custom resources in kwok-apps: objects disappeared during the core sync of external-secrets:');
    expect(result.stderr).toContain('    ClusterSecretStore (clustersecretstores.external-secrets.io): 2 objects before, 1 after');
    expect(result.stderr).toContain('fix: the run stopped before verify.');
    expect(await stores()).toBe(1);
  });
});
