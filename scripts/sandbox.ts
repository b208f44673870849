// npm run sandbox -- up | down | status
// A local control plane per cluster folder (kwok, binary runtime) plus one OCI registry serving
// the stand-in charts. Everything lives under .sandbox/; ~/.kube/config is never read or written.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BootstrapError } from '../tasks/lib/runtime/errors.ts';
import { createLogger } from '../tasks/lib/runtime/log.ts';
import { connect } from '../tasks/lib/cluster/kube.ts';
import { runCommand } from '../tasks/lib/runner/task.ts';
import { relative } from '../tasks/lib/runtime/workspace.ts';
import { publishCharts } from './sandbox/charts.ts';
import { checkRunsDeclaredKubernetes, clusterHealthy, contextOf, createCluster, deleteCluster, existingClusters, sandboxClusters, startCluster, type SandboxCluster } from './sandbox/clusters.ts';
import { componentPids, isLoopback, listenersOf } from './sandbox/listeners.ts';
import { REGISTRY_BINARY, registryHealthy, startRegistry } from './sandbox/registry.ts';
import { AGENT_SCRIPT, agentVersion } from './sandbox/agent.ts';
import { pushCharts } from './sandbox/push.ts';
import { isOurProcess, spawnDetached, stopProcess } from './sandbox/processes.ts';
import { readState, sandboxPaths, writeState, type SandboxState } from './sandbox/state.ts';

const log = createLogger(process.stderr, '[sandbox] ');
const usage = 'usage: npm run sandbox -- up [--recreate] | down | status | push <chart.tgz|folder>… [--path <upstream path>]';

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
async function checkLoopbackOnly(state: SandboxState): Promise<void> {
  const pids = await componentPids();
  if (state.registry) pids.set(state.registry.pid, 'registry');
  if (state.agent) pids.set(state.agent.pid, 'agent');
  const listeners = await listenersOf(pids);
  const open = listeners.filter((l) => !isLoopback(l.address));
  if (open.length > 0) {
    throw new BootstrapError({
      subject: 'sandbox listeners',
      problem: `listening beyond loopback:\n${open.map((l) => `    ${l.process} (pid ${l.pid}) on ${l.address}:${l.port}`).join('\n')}`,
      fix: 'stop the sandbox (npm run sandbox -- down): it must bind 127.0.0.1 only (tasks/lib/cluster/kwokctl-config.yaml)',
    });
  }
  log.success(`${listeners.length} listeners of ${pids.size} sandbox processes, all on loopback`);
}

/** The sandbox agent: webhook responder and simulations for every cluster (scripts/sandbox/agent.ts). */
async function ensureAgent(state: SandboxState): Promise<void> {
  const version = await agentVersion();
  if (state.agent && isOurProcess(state.agent.pid, AGENT_SCRIPT)) {
    if (state.agent.version === version) {
      log.info(`sandbox agent is already running (pid ${state.agent.pid})`);
      return;
    }
    // Its code or simulations changed since it started (a pull, a new Stage): start the new one.
    log.action(`sandbox agent (pid ${state.agent.pid}) runs older code: restarting it`);
    await stopProcess(state.agent.pid, AGENT_SCRIPT);
  }
  await mkdir(sandboxPaths.agentDir, { recursive: true });
  const ready = path.join(sandboxPaths.agentDir, 'ready');
  await rm(ready, { force: true });
  const pid = spawnDetached(process.execPath, [AGENT_SCRIPT], path.join(sandboxPaths.agentDir, 'agent.log'));
  state.agent = { pid, version };
  await writeState(state);
  for (let i = 0; i < 300 && !existsSync(ready); i++) {
    if (!isOurProcess(pid, AGENT_SCRIPT)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!existsSync(ready)) {
    throw new BootstrapError({
      subject: 'sandbox agent',
      problem: 'did not finish its first pass over the clusters',
      fix: `read ${relative(path.join(sandboxPaths.agentDir, 'agent.log'))}`,
    });
  }
  log.success(`sandbox agent running (pid ${pid}): webhook responder on the Services' loopback ClusterIPs, simulations from scripts/sandbox/simulations/`);
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
      await checkRunsDeclaredKubernetes(cluster);
      log.info(`cluster ${cluster.name} is already up (context ${contextOf(cluster.name)})`);
      continue;
    }
    if (existing.includes(cluster.name) && !recreate) {
      // A crashed API server is no reason to lose the cluster: restart it from its etcd data.
      log.action(`cluster ${cluster.name} exists but does not answer: restarting it, keeping its data`);
      await startCluster(cluster.name);
      await checkRunsDeclaredKubernetes(cluster);
      log.success(`cluster ${cluster.name} restarted (context ${contextOf(cluster.name)})`);
      continue;
    }
    if (existing.includes(cluster.name)) {
      log.warning(`cluster ${cluster.name}: --recreate deletes it and its data`);
      await deleteCluster(cluster.name);
    }
    log.action(`creating cluster ${cluster.name} on https://127.0.0.1:${cluster.sandbox.apiServerPort} with ${cluster.sandbox.nodes} kwok node(s)`);
    const clusterStart = Date.now();
    await createCluster(cluster, log);
    log.success(`cluster ${cluster.name} ready in ${((Date.now() - clusterStart) / 1000).toFixed(1)}s`);
  }
  await ensureAgent(state);
  await checkLoopbackOnly(state);
  log.success(`sandbox up in ${((Date.now() - started) / 1000).toFixed(1)}s; kubeconfig: ${relative(sandboxPaths.kubeconfig)}`);
  log.info(`inspect: KUBECONFIG=${relative(sandboxPaths.kubeconfig)} .tools/bin/kubectl --context ${contextOf(clusters[0]?.name ?? 'infra')} get crds`);
  log.info('stop:    npm run sandbox -- down');
}

async function down(): Promise<void> {
  const state = await readState();
  // The agent first: it would otherwise log every cluster going away.
  if (state.agent && (await stopProcess(state.agent.pid, AGENT_SCRIPT))) log.success(`sandbox agent stopped (pid ${state.agent.pid})`);
  for (const name of existsSync(sandboxPaths.kwokWorkdir) ? await existingClusters() : []) {
    await deleteCluster(name);
    log.success(`cluster ${name} deleted`);
  }
  if (state.registry && (await stopProcess(state.registry.pid, REGISTRY_BINARY))) {
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
  const agentUp = state.agent !== undefined && isOurProcess(state.agent.pid, AGENT_SCRIPT);
  healthy &&= agentUp;
  process.stdout.write(`agent     ${agentUp ? `pid ${state.agent!.pid}  up` : '-  down'}\n`);
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

async function push(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { path: { type: 'string' } }, allowPositionals: true });
  const state = await readState();
  if (!state.registry || !(await registryHealthy(state.registry.address))) {
    throw new BootstrapError({ subject: 'sandbox registry', problem: 'is not running', fix: 'start the sandbox first: npm run sandbox -- up' });
  }
  if (positionals.length === 0) throw new BootstrapError({ subject: 'push', problem: 'needs at least one chart archive or folder', fix: usage });
  const results = await pushCharts(state.registry.address, positionals, values.path, log);
  const pushed = results.filter((r) => r.pushed).length;
  log.success(`${results.length} chart(s): ${pushed} pushed, ${results.length - pushed} already there`);
}

async function main(command: string | undefined, flags: string[]): Promise<number> {
  const unknown = command === 'push' ? [] : flags.filter((f) => !(command === 'up' && f === '--recreate'));
  if (unknown.length > 0) {
    process.stderr.write(`sandbox: unknown option ${unknown.join(' ')}\n${usage}\n`);
    return 2;
  }
  switch (command) {
    case 'push':
      await push(flags);
      return 0;
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

await runCommand(`sandbox ${process.argv[2] ?? ''}`.trim(), 1, () => main(process.argv[2], process.argv.slice(3)));
