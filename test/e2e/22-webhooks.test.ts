// Real charts' admission webhooks in the sandbox (after the pipeline installed cert-manager and
// external-secrets with their webhook configurations): the kube-apiserver calls them at their
// Services' loopback ClusterIPs, the sandbox agent answers with a certificate the webhook's
// caBundle trusts, and a webhook nobody answers fails at once on a 127.64.x.x address. The
// kube-apiserver holds no connection to any address off loopback meanwhile.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { componentPids } from '../../scripts/sandbox/listeners.ts';
import { readObject, serverSideApply } from '../../tasks/lib/cluster/kube.ts';
import { readManifests } from '../../tasks/lib/runtime/manifests.ts';
import { paths, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { kubeFor, run } from '../helpers/sandbox.ts';

const kube = kubeFor('infra');
const webhookLog = path.join(paths.sandbox, 'agent', 'webhooks.log');
const noBackend: KubernetesObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'e2e-no-backend', namespace: 'default' }, spec: { ports: [{ port: 443 }] } } as KubernetesObject,
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'e2e-no-backend', labels: { 'sandbox.cluster-bootstrap.io/responder': 'none' } },
    webhooks: [
      {
        name: 'e2e.no-backend.example.com',
        objectSelector: { matchLabels: { e2e: 'no-backend' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] }],
        clientConfig: { service: { name: 'e2e-no-backend', namespace: 'default', path: '/validate' } },
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
      },
    ],
  } as KubernetesObject,
];

/** Every TCP connection the kube-apiserver processes hold, as "local peer". */
async function apiserverConnections(): Promise<string[]> {
  const pids = [...(await componentPids())].filter(([, name]) => name.endsWith('/kube-apiserver')).map(([pid]) => pid);
  expect(pids.length).toBe(2);
  const ss = await run`ss -tnpH`;
  return ss.stdout
    .split('\n')
    .filter((line) => pids.some((pid) => line.includes(`pid=${pid},`)))
    .map((line) => line.trim().split(/\s+/).slice(3, 5).join(' '));
}

const offLoopback = (connections: string[]) => connections.filter((c) => !c.split(' ').every((end) => /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\]):\d+$/.test(end)));

describe('admission webhooks in the sandbox', () => {
  afterAll(async () => {
    for (const object of [...noBackend].reverse()) await kube.objects.delete(object).catch(() => undefined);
  });

  it('the chart webhooks trust the sandbox CA, written by the agent as cainjector would', async () => {
    const ca = Buffer.from(await readFile(path.join(paths.sandbox, 'agent', 'ca.crt'))).toString('base64');
    for (const name of ['cert-manager-webhook']) {
      const config = await readObject<KubernetesObject & { webhooks: Array<{ clientConfig: { caBundle?: string } }> }>(kube, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name },
      });
      expect(config?.webhooks.map((w) => w.clientConfig.caBundle)).toEqual([ca]);
    }
  });

  it('a dry-run that triggers cert-manager’s webhook goes API server → responder → allowed, on loopback', async () => {
    const [issuer] = await readManifests([path.join(workspaceRoot, 'kubernetes/apps/cert-manager/cert-manager/issuers/clusterissuer.yaml')]);
    const before = (await readFile(webhookLog, 'utf8')).split('\n').length;
    await serverSideApply(kube, issuer!.object, { dryRun: true });
    const calls = (await readFile(webhookLog, 'utf8')).split('\n').slice(before - 1);
    expect(calls.some((line) => /cert-manager-webhook\.cert-manager\.svc\/validate\?timeout=\d+s \S+ ClusterIssuer \S+ dryRun=true allowed$/.test(line))).toBe(true);
    expect(offLoopback(await apiserverConnections())).toEqual([]);
  });

  it('a webhook nobody answers fails at once, naming its 127.64.x.x address and the fix', async () => {
    for (const object of noBackend) await serverSideApply(kube, object);
    const service = await kube.core.readNamespacedService({ name: 'e2e-no-backend', namespace: 'default' });
    expect(service.spec?.clusterIP).toMatch(/^127\.64\.\d+\.\d+$/);
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e2e-webhook', namespace: 'default', labels: { e2e: 'no-backend' } }, data: { a: 'b' } };
    const error = await serverSideApply(kube, configMap, { dryRun: true }).then(() => undefined, (e: Error) => e);
    expect(error?.message).toContain(`dial tcp ${service.spec?.clusterIP}:443: connect: connection refused`);
    expect(error?.message).toContain(`fix: no server answers webhook "e2e.no-backend.example.com" at ${service.spec?.clusterIP}:443`);
    expect(offLoopback(await apiserverConnections())).toEqual([]);
  });

  it('the FluxInstance simulation and hook-Job completion come from the sandbox, not from a chart', async () => {
    const stage = await readObject(kube, { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Stage', metadata: { name: 'fluxinstance-ready' } });
    expect(stage?.metadata?.annotations?.['meta.helm.sh/release-name']).toBeUndefined();
    const rendered = await run`helm template x test/fixtures/charts/flux-operator`;
    expect(rendered.stdout).not.toContain('kind: Stage');
    // cert-manager's post-install hook Job ran to completion, or helm would have failed the release.
    const history = await run`helm history cert-manager --namespace cert-manager --kube-context kwok-infra --output json`;
    expect((JSON.parse(history.stdout) as Array<{ status: string }>).at(-1)?.status).toBe('deployed');
  });
});
