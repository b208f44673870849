// A throwaway control plane: the sandbox's own etcd and kube-apiserver binaries, on loopback
// only, with a Service range on loopback (like the sandbox), no controllers and no webhooks.
// It exists for one check and is gone afterwards: both processes are stopped by the PIDs we
// started and the folder removed.
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startChild, stopChild } from '../runtime/children.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { pause } from '../runtime/interrupt.ts';
import { freePort } from '../runtime/free-port.ts';
import { connect, type Kube } from './kube.ts';
import { writeYaml } from '../runtime/yaml.ts';

export interface ThrowawayApiserver {
  kube: Kube;
  server: string;
  /** A kubeconfig file for it (context "throwaway"), for tools such as kubectl. */
  kubeconfig: string;
  stop(): Promise<void>;
}

function start(binary: string, args: string[]): ChildProcess {
  // Output is kept in memory and read on failure only: a log file in the throwaway folder, written
  // when the process exits, raced the folder's removal (ENOTEMPTY, seen in CI). Its own process
  // group: it never outlives this process (children.ts).
  const child = startChild(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk));
  (child as ChildProcess & { output: () => string }).output = () => Buffer.concat(chunks).toString();
  return child;
}

const outputOf = (child: ChildProcess) => (child as ChildProcess & { output: () => string }).output();

function readyz(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = https.get(`${server}/readyz`, { rejectUnauthorized: false, headers: { Authorization: `Bearer ${token}` }, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

/** Starts etcd and kube-apiserver on free loopback ports; resolves once /readyz answers. */
export async function startThrowawayApiserver(timeoutMs = 60_000): Promise<ThrowawayApiserver> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'throwaway-apiserver-'));
  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await mkdir(path.join(dir, 'certs'));
  await writeFile(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(path.join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);

  const etcd = start('etcd', [
    '--data-dir', path.join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`,
    // Nothing here outlives the check: durability buys nothing.
    '--unsafe-no-fsync',
  ]);
  const apiserver = start('kube-apiserver', [
    '--etcd-servers', `http://127.0.0.1:${etcdClient}`,
    '--bind-address', '127.0.0.1',
    '--advertise-address', '127.0.0.1',
    '--secure-port', String(securePort),
    '--cert-dir', path.join(dir, 'certs'),
    '--service-cluster-ip-range', '127.64.0.0/16',
    '--token-auth-file', path.join(dir, 'tokens.csv'),
    '--authorization-mode', 'AlwaysAllow',
    '--service-account-issuer', 'https://kubernetes.default.svc',
    '--service-account-key-file', path.join(dir, 'sa.pub'),
    '--service-account-signing-key-file', path.join(dir, 'sa.key'),
    '--endpoint-reconciler-type', 'none',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
  ]);

  const server = `https://127.0.0.1:${securePort}`;
  const stop = async () => {
    await stopChild(apiserver);
    await stopChild(etcd);
    await rm(dir, { recursive: true, force: true });
  };
  const started = Date.now();
  const deadline = started + timeoutMs;
  while (!(await readyz(server, token))) {
    const died = [etcd, apiserver].find((c) => c.exitCode !== null);
    if (died || Date.now() > deadline) {
      const said = outputOf(died ?? apiserver).trim().split('\n').slice(-3).join('\n    ');
      await stop();
      throw new BootstrapError({
        subject: 'throwaway API server',
        problem: `${died ? `${died === etcd ? 'etcd' : 'kube-apiserver'} exited` : `not ready after ${timeoutMs / 1000}s`}:\n    ${said}`,
        fix: 'check that scripts/build-tools.sh built etcd and kube-apiserver (.tools/bin)',
      });
    }
    await pause(250, 'the throwaway API server to answer /readyz', started).catch(async (error: unknown) => {
      await stop();
      throw error;
    });
  }
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    writeYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'throwaway', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'throwaway', context: { cluster: 'throwaway', user: 'admin' } }],
      'current-context': 'throwaway',
    }),
  );
  return { kube: connect({ kubeconfigPath: kubeconfig, context: 'throwaway' }), server, kubeconfig, stop };
}
