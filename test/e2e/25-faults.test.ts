// Bad input gets a clear error that names the file, field or resource, and changes nothing.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { readObject } from '../../tasks/lib/cluster/kube.ts';
import { paths, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { kubeFor, registry, run, runWith } from '../helpers/sandbox.ts';
import { withWorkspaceCopy, type WorkspaceCopy } from '../helpers/workspace-copy.ts';

/** resourceVersions of the prerequisites of apps: equal before and after means nothing was written. */
async function prerequisiteVersions(): Promise<Array<string | undefined>> {
  const kube = kubeFor('apps');
  const objects: KubernetesObject[] = [
    ...['cert-manager', 'external-secrets', 'flux-system', 'monitoring'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'external-secrets-token', namespace: 'external-secrets' } },
  ];
  return Promise.all(objects.map(async (o) => (await readObject(kube, o))?.metadata?.resourceVersion));
}

/** Runs `body` in a copy of the workspace with one more cluster folder, clusters/<name>/. */
async function withCluster<T>(name: string, clusterYaml: string, body: (copy: WorkspaceCopy) => Promise<T>): Promise<T> {
  return withWorkspaceCopy(async (copy) => {
    await mkdir(copy.file(`clusters/${name}/prerequisites`), { recursive: true });
    await copy.write(`clusters/${name}/cluster.yaml`, clusterYaml);
    return body(copy);
  });
}

describe('faults and bad input', () => {
  it('a missing secret value fails before any write, naming the secret and the variable, never a value', async () => {
    expect((await run`node tasks/prereqs.ts --cluster apps`).exitCode).toBe(0);
    const before = await prerequisiteVersions();
    const result = await runWith({ APPS_EXTERNAL_SECRETS_TOKEN: '' })`node tasks/prereqs.ts --cluster apps`;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      '✗ prereqs failed: clusters/apps/cluster.yaml: prerequisites.secrets external-secrets/external-secrets-token key "token": environment variable APPS_EXTERNAL_SECRETS_TOKEN is not set\n' +
        '  fix: export APPS_EXTERNAL_SECRETS_TOKEN=… before running (its value is never printed or stored)',
    );
    expect(await prerequisiteVersions()).toEqual(before);
  });

  it('never prints a secret value, whatever happens', async () => {
    const result = await runWith({ APPS_EXTERNAL_SECRETS_TOKEN: 'do-not-print-me-0451' })`node tasks/prereqs.ts --cluster apps`;
    expect(result.exitCode).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain('do-not-print-me-0451');
    expect(`${result.stdout}${result.stderr}`).not.toContain(Buffer.from('do-not-print-me-0451').toString('base64'));
    expect((await run`node tasks/prereqs.ts --cluster apps`).exitCode).toBe(0);
  });

  it('a misspelled key in cluster.yaml fails that cluster\'s tasks, naming file and key, and leaves the graph whole', async () => {
    const original = await readFile(path.join(paths.clusters, 'apps', 'cluster.yaml'), 'utf8');
    await withCluster('e2e-typo', original.replace(/^context:/m, 'contxt:'), async (copy) => {
      const task = await copy.run`node tasks/prereqs.ts --cluster e2e-typo`;
      expect(task.exitCode).toBe(1);
      expect(task.stderr).toBe(
        '✗ prereqs failed: clusters/e2e-typo/cluster.yaml: contxt: unknown key "contxt"\n' +
          '  fix: did you mean "context"? (known keys here: kubeconfig, context, identity, helmfile, kubernetesVersion, kubernetes, registryMirror, prerequisites, verify, gitops, crdRules, drift, sandbox)\n',
      );
      // The broken file fails its own cluster's targets; the graph, and every other cluster, still work.
      const graph = await copy.run`nx show projects`;
      expect(graph.exitCode, graph.stderr).toBe(0);
      expect(graph.stdout.split('\n')).toEqual(expect.arrayContaining(['apps', 'infra', 'e2e-typo']));
      const target = await copy.run`nx run e2e-typo:prereqs --outputStyle=stream`;
      expect(target.exitCode).not.toBe(0);
      expect(target.stdout + target.stderr).toContain('clusters/e2e-typo/cluster.yaml: contxt: unknown key "contxt"');
    });
  });

  it('a kube-system UID pin that does not match is refused', async () => {
    const yaml = [
      'kubeconfig: ../../.sandbox/kubeconfig',
      'context: kwok-apps',
      'identity:',
      '  kubeSystemUID: 00000000-0000-0000-0000-000000000000',
      'helmfile:',
      '  environment: e2e-other',
      '',
    ].join('\n');
    await withCluster('e2e-other', yaml, async (copy) => {
      const result = await copy.run`node tasks/prereqs.ts --cluster e2e-other`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        /clusters\/e2e-other\/cluster\.yaml: identity\.kubeSystemUID: context "kwok-apps" reaches a cluster whose kube-system UID is [0-9a-f-]+, but cluster "e2e-other" pins 00000000-0000-0000-0000-000000000000; refusing to touch it/,
      );
    });
  });

  it('an API server that does not answer is named with its context and URL', async () => {
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: gone, cluster: { server: "https://127.0.0.1:65530", insecure-skip-tls-verify: true } }]',
      'users: [{ name: gone, user: { token: not-a-secret } }]',
      'contexts: [{ name: gone, context: { cluster: gone, user: gone } }]',
      '',
    ].join('\n');
    const yaml = ['kubeconfig: kubeconfig', 'context: gone', 'identity:', '  server: https://127.0.0.1:65530', 'helmfile:', '  environment: e2e-gone', ''].join('\n');
    await withCluster('e2e-gone', yaml, async (copy) => {
      await copy.write('clusters/e2e-gone/kubeconfig', kubeconfig);
      const result = await copy.run`node tasks/prereqs.ts --cluster e2e-gone`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('✗ prereqs failed: context "gone" (https://127.0.0.1:65530): the API server does not answer: fetch failed (ECONNREFUSED)');
      expect(result.stderr).toContain('fix: check that the API server is reachable from this machine');
    });
  });

  it('an unknown context is named with the contexts that exist', async () => {
    const result = await run`node tasks/crds.ts --cluster apps --context kwok-nope`;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`✗ crds failed: context "kwok-nope": not found in kubeconfig ${path.join(paths.sandbox, 'kubeconfig')}\n  fix: use one of: kwok-apps, kwok-infra`);
  });

  it('shell metacharacters in a folder name, a context name or a value run nothing', async () => {
    // `touch pwned` would run in the workspace the command runs in: the checkout, or a copy.
    const pwned = (root: string) => path.join(root, 'pwned');
    await rm(pwned(workspaceRoot), { force: true });
    const original = await readFile(path.join(paths.clusters, 'apps', 'cluster.yaml'), 'utf8');
    await withCluster('x;touch pwned;y', original, async (copy) => {
      const graph = await copy.run`nx run-many -t render-crds --outputStyle=stream`;
      expect(graph.exitCode).not.toBe(0);
      expect(graph.stdout + graph.stderr).toContain('clusters/x;touch pwned;y/cluster.yaml: the folder name "x;touch pwned;y" is not a valid cluster name');
      expect(existsSync(pwned(copy.root))).toBe(false);
    });
    const context = await run`node tasks/prereqs.ts --cluster apps --context ${'kwok-apps;touch pwned'}`;
    expect(context.exitCode).toBe(1);
    expect(context.stderr).toContain('context "kwok-apps;touch pwned": not found in kubeconfig');
    // A value reaches helm as data: the render succeeds and carries the text verbatim.
    await withWorkspaceCopy(async (copy) => {
      await copy.edit('clusters/apps/values.yaml', (text) => text.replace('chartValues: {}', 'chartValues:\n  cilium:\n    cluster:\n      name: "$(touch pwned)`touch pwned`"'));
      const rendered = await copy.run`helmfile --file helmfile.d/01-core.yaml.gotmpl --environment apps --state-values-set registryMirror=127.0.0.1:15000/ --state-values-set registryPlainHttp=true --selector name=cilium template`;
      expect(rendered.exitCode, rendered.stderr).toBe(0);
      expect(rendered.stdout).toContain("cluster-name: \"$(touch pwned)`touch pwned`\"");
      expect(existsSync(pwned(copy.root))).toBe(false);
    });
    expect(existsSync(pwned(workspaceRoot))).toBe(false);
  });

  it('a release left pending-upgrade by a killed helm is refused with its recovery command, and --recover recovers it', async () => {
    const status = async () => (JSON.parse((await run`helm status coredns --namespace kube-system --kube-context kwok-apps --output json`).stdout) as { info: { status: string } }).info.status;
    expect(await status()).toBe('deployed');
    // An upgrade that cannot finish (no node matches), killed as a cancelled CI job would be.
    const chart = `oci://${registry}/ghcr.io/coredns/charts/coredns`;
    const upgrade = run`helm upgrade coredns ${chart} --version 1.47.1 --namespace kube-system --kube-context kwok-apps --plain-http --reuse-values --set nodeSelector.e2e=nowhere --wait --timeout 600s`;
    for (let i = 0; i < 150 && (await status()) !== 'pending-upgrade'; i++) await new Promise((resolve) => setTimeout(resolve, 200));
    await upgrade.kill('SIGKILL');
    await upgrade;
    expect(await status()).toBe('pending-upgrade');

    const refused = await run`node tasks/core.ts --cluster apps`;
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('helm release kube-system/coredns: an earlier helm operation was interrupted: coredns is pending-upgrade');
    expect(refused.stderr).toMatch(/fix: if no other bootstrap is running, recover with helm rollback coredns \d+ --namespace kube-system --kube-context kwok-apps, or rerun with --recover/);

    const recovered = await run`node tasks/core.ts --cluster apps --recover`;
    expect(recovered.exitCode, recovered.stderr).toBe(0);
    expect(recovered.stderr).toMatch(/recovering kube-system\/coredns \(pending-upgrade\): helm rollback coredns \d+/);
    expect(await status()).toBe('deployed');
  });

  it('one writer per cluster: a held lease refuses a second run, naming the holder; two runs with --wait-for-lock take turns', async () => {
    const kube = kubeFor('apps');
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'cluster-bootstrap', namespace: 'kube-system' } };
    await kube.objects.delete(lease).catch(() => undefined);
    const now = new Date().toISOString().replace(/Z$/, '000Z');
    await kube.objects.create({ ...lease, spec: { holderIdentity: 'laptop pid 7 (apps:core)', leaseDurationSeconds: 60, acquireTime: now, renewTime: now } } as KubernetesObject);
    try {
      const refused = await run`node tasks/core.ts --cluster apps`;
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`✗ core failed: cluster apps (Lease kube-system/cluster-bootstrap): another run changes this cluster: laptop pid 7 (apps:core), since ${now}; nothing was done`);
      expect(refused.stderr).toContain('fix: wait for it to finish, or rerun with --wait-for-lock');
    } finally {
      await kube.objects.delete(lease);
    }
    const [first, second] = await Promise.all([run`node tasks/core.ts --cluster apps --wait-for-lock`, run`node tasks/core.ts --cluster apps --wait-for-lock`]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(second.exitCode, second.stderr).toBe(0);
    const released = await readObject<KubernetesObject & { spec?: { holderIdentity?: string } }>(kube, lease);
    expect(released?.spec?.holderIdentity).toBeUndefined();
  });

  it('a helmfile environment that is not the folder name is refused: it would render another cluster\'s values', async () => {
    const original = await readFile(path.join(paths.clusters, 'apps', 'cluster.yaml'), 'utf8');
    await withCluster('e2e-env', original, async (copy) => {
      const result = await copy.run`node tasks/render-crds.ts --cluster e2e-env`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        'clusters/e2e-env/cluster.yaml: helmfile.environment: is "apps", but the cluster folder is "e2e-env" (helmfile.d reads clusters/<environment>/values.yaml)\n  fix: set helmfile.environment: e2e-env',
      );
    });
  });
});
