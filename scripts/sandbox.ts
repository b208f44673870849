// npm run sandbox -- up | down | status
// A local control plane per cluster folder (kwok, binary runtime) plus one OCI registry serving
// the stand-in charts. Everything lives under .sandbox/; ~/.kube/config is never read or written.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { BootstrapError } from '../tasks/lib/errors.ts';
import { createLogger } from '../tasks/lib/log.ts';
import { connect } from '../tasks/lib/kube.ts';
import { relative } from '../tasks/lib/workspace.ts';
import { publishCharts } from './sandbox/charts.ts';
import { clusterHealthy, contextOf, createCluster, deleteCluster, existingClusters, sandboxClusters, startCluster, type SandboxCluster } from './sandbox/clusters.ts';
import { componentPids, isLoopback, listenersOf } from './sandbox/listeners.ts';
import { REGISTRY_BINARY, registryHealthy, startRegistry } from './sandbox/registry.ts';
import { readState, sandboxPaths, writeState } from './sandbox/state.ts';

const log = createLogger(process.stderr, '[sandbox] ');
const usage = 'usage: npm run sandbox -- up [--recreate] | down | status';

/** The registry every sandbox cluster mirrors from; they must agree on one loopback address. */
function registryAddress(clusters: SandboxCluster[]): string {
  const hosts = new Set(clusters.map((c) => c.registryMirror?.host ?? ''));
  const [host] = hosts;
  if (hosts.size !== 1 || !host || !/^127\.0\.0\.1:\d+$/.test(host)) {
    throw new BootstrapError({
      subject: 'clusters/*/cluster.yaml: registryMirror.host',
      problem: `sandbox clusters must all mirror from one 127.0.0.1:<port> registry (found: ${[...hosts].map((h) => h || '(none)').join(', ')})`,
      fix: 'set the same registryMirror.host, e.g. 127.0.0.1:15000, with plainHttp: true, in every cluster with a sandbox section',
    });
  }
  return host;
}

/** Every listener of the sandbox's own processes must be on loopback; anything else stops `up`. */
async function checkLoopbackOnly(registryPid: number | undefined): Promise<void> {
  const pids = await componentPids();
  if (registryPid) pids.set(registryPid, 'registry');
  const listeners = await listenersOf(pids);
  const open = listeners.filter((l) => !isLoopback(l.address));
  if (open.length > 0) {
    throw new BootstrapError({
      subject: 'sandbox listeners',
      problem: `listening beyond loopback:\n${open.map((l) => `    ${l.process} (pid ${l.pid}) on ${l.address}:${l.port}`).join('\n')}`,
      fix: 'stop the sandbox (npm run sandbox -- down): it must bind 127.0.0.1 only (scripts/sandbox/kwokctl-config.yaml)',
    });
  }
  log.success(`${listeners.length} listeners of ${pids.size} sandbox processes, all on loopback`);
}

async function up(recreate: boolean): Promise<void> {
  const started = Date.now();
  const clusters = await sandboxClusters();
  const address = registryAddress(clusters);
  const state = await readState();

  if (state.registry && (await registryHealthy(state.registry.address))) {
    log.info(`registry ${state.registry.address} is already up`);
  } else {
    const pid = await startRegistry(address);
    state.registry = { pid, address };
    await writeState(state);
    log.success(`registry listening on ${address} (pid ${pid})`);
  }
  await publishCharts(address, log);

  const existing = await existingClusters();
  for (const cluster of clusters) {
    if (await clusterHealthy(cluster.name)) {
      log.info(`cluster ${cluster.name} is already up (context ${contextOf(cluster.name)})`);
      continue;
    }
    if (existing.includes(cluster.name) && !recreate) {
      // A crashed API server is no reason to lose the cluster: restart it from its etcd data.
      log.action(`cluster ${cluster.name} exists but does not answer: restarting it, keeping its data`);
      await startCluster(cluster.name);
      log.success(`cluster ${cluster.name} restarted (context ${contextOf(cluster.name)})`);
      continue;
    }
    if (existing.includes(cluster.name)) {
      log.warning(`cluster ${cluster.name}: --recreate deletes it and its data`);
      await deleteCluster(cluster.name);
    }
    log.action(`creating cluster ${cluster.name} on https://127.0.0.1:${cluster.sandbox.apiServerPort} with ${cluster.sandbox.nodes} kwok node(s)`);
    const clusterStart = Date.now();
    await createCluster(cluster);
    log.success(`cluster ${cluster.name} ready in ${((Date.now() - clusterStart) / 1000).toFixed(1)}s`);
  }
  await checkLoopbackOnly(state.registry?.pid);
  log.success(`sandbox up in ${((Date.now() - started) / 1000).toFixed(1)}s; kubeconfig: ${relative(sandboxPaths.kubeconfig)}`);
  log.info(`inspect: KUBECONFIG=${relative(sandboxPaths.kubeconfig)} .tools/bin/kubectl --context ${contextOf(clusters[0]?.name ?? 'infra')} get crds`);
  log.info('stop:    npm run sandbox -- down');
}

/** Only signal the pid we started, and only if it still is the registry (pids get reused). */
function isOurRegistry(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === REGISTRY_BINARY;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 50 && isOurRegistry(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isOurRegistry(pid)) process.kill(pid, 'SIGKILL');
}

async function down(): Promise<void> {
  const state = await readState();
  for (const name of existsSync(sandboxPaths.kwokWorkdir) ? await existingClusters() : []) {
    await deleteCluster(name);
    log.success(`cluster ${name} deleted`);
  }
  if (state.registry && isOurRegistry(state.registry.pid)) {
    process.kill(state.registry.pid, 'SIGTERM');
    await waitForExit(state.registry.pid);
    log.success(`registry ${state.registry.address} stopped (pid ${state.registry.pid})`);
  }
  await rm(sandboxPaths.root, { recursive: true, force: true });
  log.success(`sandbox down; ${relative(sandboxPaths.root)}/ removed`);
}

async function status(): Promise<boolean> {
  const state = await readState();
  let healthy = true;
  const registryUp = state.registry ? await registryHealthy(state.registry.address) : false;
  healthy &&= registryUp;
  process.stdout.write(`registry  ${state.registry?.address ?? '-'}  ${registryUp ? 'up' : 'down'}\n`);
  for (const cluster of await sandboxClusters()) {
    const up = await clusterHealthy(cluster.name);
    healthy &&= up;
    let nodes = '-';
    if (up) {
      const kube = connect({ kubeconfigPath: sandboxPaths.kubeconfig, context: contextOf(cluster.name) });
      nodes = String((await kube.core.listNode()).items.length);
    }
    process.stdout.write(
      `cluster   ${cluster.name.padEnd(8)} https://127.0.0.1:${cluster.sandbox.apiServerPort}  ${up ? 'up' : 'down'}  nodes: ${nodes}  context: ${contextOf(cluster.name)}\n`,
    );
  }
  return healthy;
}

async function main(command: string | undefined, flags: string[]): Promise<number> {
  const unknown = flags.filter((f) => !(command === 'up' && f === '--recreate'));
  if (unknown.length > 0) {
    process.stderr.write(`sandbox: unknown option ${unknown.join(' ')}\n${usage}\n`);
    return 2;
  }
  switch (command) {
    case 'up':
      await up(flags.includes('--recreate'));
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status':
      return (await status()) ? 0 : 1;
    default:
      process.stderr.write(`sandbox: unknown command ${command === undefined ? '(none)' : `"${command}"`}\n${usage}\n`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2], process.argv.slice(3));
} catch (error) {
  process.exitCode = 1;
  process.stderr.write(`✗ sandbox ${process.argv[2]} failed: ${error instanceof Error ? error.message : String(error)}\n`);
}
