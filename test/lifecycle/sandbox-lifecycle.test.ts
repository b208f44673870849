// Sandbox lifecycle, run after the e2e suite: a second `up` is a no-op, bad input fails clearly,
// and `down` leaves no process, port or state behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createCluster, sandboxClusters } from '../../scripts/sandbox/clusters.ts';
import { componentPids, listenersOf } from '../../scripts/sandbox/listeners.ts';
import { isPortOpen } from '../../scripts/sandbox/ports.ts';
import { startRegistry } from '../../scripts/sandbox/registry.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';
import { kubeFor, run, runWith } from '../helpers/sandbox.ts';

/** Processes whose command line points into .sandbox/: the registry and every kwok component. */
function sandboxProcesses(): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (command.includes(`${paths.sandbox}/`)) found.push({ pid: Number(entry), command });
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

/** Running, not a zombie waiting for a parent to reap it. */
function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}

async function withBusyPort<T>(body: (port: number) => Promise<T>): Promise<T> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body((server.address() as net.AddressInfo).port);
  } finally {
    server.close();
  }
}

describe('sandbox lifecycle', () => {
  it('a second up is a no-op that says so', async () => {
    const result = await run`node scripts/sandbox.ts up`;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('registry 127.0.0.1:15000 is already up');
    expect(result.stderr).toContain('cluster infra is already up (context kwok-infra)');
    expect(result.stderr).toContain('cluster apps is already up (context kwok-apps)');
    expect(result.stderr).not.toContain('creating cluster');
    expect(result.stderr).toContain('(0 pushed, ');
  });

  it('status lists the registry and each cluster as up', async () => {
    const result = await run`node scripts/sandbox.ts status`;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^registry\s+127\.0\.0\.1:15000\s+up$/m);
    expect(result.stdout).toMatch(/^cluster\s+infra\s+https:\/\/127\.0\.0\.1:16443\s+up\s+nodes: 2/m);
    expect(result.stdout).toMatch(/^cluster\s+apps\s+https:\/\/127\.0\.0\.1:16444\s+up\s+nodes: 1/m);
  });

  it('refuses an unknown subcommand with usage and exit code 2', async () => {
    const result = await run`node scripts/sandbox.ts upp`;
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('sandbox: unknown command "upp"\nusage: npm run sandbox -- up [--recreate] | down | status | push <chart.tgz|folder>… [--path <upstream path>]\n');
  });

  it('every listener of every sandbox process is on 127.0.0.1, as ss sees it too', async () => {
    const pids = await componentPids();
    // etcd, kube-apiserver, controller-manager, scheduler and kwok-controller per cluster.
    expect(pids.size).toBeGreaterThanOrEqual(5 * 2);
    const listeners = await listenersOf(pids);
    expect(listeners.length).toBeGreaterThanOrEqual(pids.size);
    expect(listeners.filter((l) => !l.address.startsWith('127.'))).toEqual([]);
    // Cross-check with ss: no socket of these PIDs listens on a wildcard or another address.
    const ss = await run`ss -ltnpH`;
    expect(ss.exitCode).toBe(0);
    const ours = ss.stdout.split('\n').filter((line) => [...pids.keys()].some((pid) => line.includes(`pid=${pid},`)));
    expect(ours.length).toBe(listeners.length);
    expect(ours.filter((line) => !/^\S+\s+\d+\s+\d+\s+127\.\d+\.\d+\.\d+:\d+\s/.test(line))).toEqual([]);
  });

  it('Services get loopback ClusterIPs: the kube-apiserver never dials off the machine', async () => {
    const service = await kubeFor('infra').core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    expect(service.spec?.clusterIP).toBe('127.64.0.1');
  });

  it('up after a crashed API server restarts the cluster and keeps its data', async () => {
    const kube = kubeFor('apps');
    const before = (await kube.core.readNamespace({ name: 'kube-system' })).metadata?.uid;
    const pids = await componentPids();
    const apiserver = [...pids].find(([, name]) => name === 'apps/kube-apiserver')?.[0];
    expect(apiserver).toBeDefined();
    process.kill(apiserver!, 'SIGKILL');
    for (let i = 0; i < 50 && alive(apiserver!); i++) await new Promise((resolve) => setTimeout(resolve, 100));

    const result = await run`node scripts/sandbox.ts up`;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('cluster apps exists but does not answer: restarting it, keeping its data');
    expect(result.stderr).not.toContain('creating cluster apps');
    expect((await kube.core.readNamespace({ name: 'kube-system' })).metadata?.uid).toBe(before);
    // What the e2e suite bootstrapped is still there.
    expect((await kube.apiextensions.listCustomResourceDefinition()).items.length).toBeGreaterThan(10);
  });

  it('refuses a port already in use, naming the port and the fix', async () => {
    await withBusyPort(async (port) => {
      await expect(startRegistry(`127.0.0.1:${port}`)).rejects.toThrow(
        `sandbox registry 127.0.0.1:${port}: port ${port} is already in use by another process`,
      );
      const [cluster] = await sandboxClusters();
      await expect(createCluster({ ...cluster!, sandbox: { apiServerPort: port, nodes: 1 } }, { warning: () => undefined })).rejects.toThrow(
        `sandbox.apiServerPort: port ${port} is already in use by another process\n  fix: stop that process, or pick another port (and update identity.server to match)`,
      );
    });
  });

  it('build-tools stops with an install hint when Go is missing', async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'tools-cache-'));
    const result = await runWith({ PATH: '/usr/bin:/bin', BOOTSTRAP_TOOLS_CACHE: cache })`bash scripts/build-tools.sh helm`;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('build-tools: Go is not installed. Install Go >= 1.26');
  });

  it('down stops every sandbox process, frees every port and removes the state', async () => {
    const before = sandboxProcesses();
    const { agent } = JSON.parse(readFileSync(path.join(paths.sandbox, 'sandbox.json'), 'utf8')) as { agent?: { pid: number } };
    expect(agent && alive(agent.pid)).toBe(true);
    // The registry plus etcd, kube-apiserver, controller-manager, scheduler and kwok per cluster.
    expect(before.length).toBeGreaterThanOrEqual(1 + 5 * 2);
    expect(await isPortOpen(16443)).toBe(true);

    const result = await run`node scripts/sandbox.ts down`;
    expect(result.exitCode, result.stderr).toBe(0);

    expect(before.filter((p) => alive(p.pid))).toEqual([]);
    expect(alive(agent!.pid)).toBe(false);
    expect(sandboxProcesses()).toEqual([]);
    for (const port of [15000, 16443, 16444]) expect(await isPortOpen(port)).toBe(false);
    expect(existsSync(paths.sandbox)).toBe(false);

    const status = await run`node scripts/sandbox.ts status`;
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toMatch(/^registry\s+-\s+down$/m);
  });
});
