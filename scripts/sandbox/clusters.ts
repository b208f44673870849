// One kwok cluster per clusters/<name> with a sandbox section: a real etcd, kube-apiserver,
// controller-manager and scheduler (built from upstream), and kwok simulating nodes and pods.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { clusterNames, loadCluster, type ClusterConfig } from '../../tasks/lib/model/config.ts';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { runTool } from '../../tasks/lib/tools/run-tool.ts';
import { reachCluster } from '../../tasks/lib/cluster/identity.ts';
import { connect } from '../../tasks/lib/cluster/kube.ts';
import { parseManifests } from '../../tasks/lib/runtime/manifests.ts';
import { applyAll } from '../../tasks/lib/cluster/apply.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';
import { isPortFree } from './ports.ts';
import { sandboxEnv, sandboxPaths } from './state.ts';

export type SandboxCluster = ClusterConfig & { sandbox: NonNullable<ClusterConfig['sandbox']> };

/** Every cluster folder that describes a sandbox; the folder name is the kwok cluster name. */
export async function sandboxClusters(): Promise<SandboxCluster[]> {
  const clusters = await Promise.all((await clusterNames()).map((name) => loadCluster(name)));
  const sandboxed = clusters.filter((c): c is SandboxCluster => c.sandbox !== undefined);
  for (const cluster of sandboxed) checkSandboxFacts(cluster);
  return sandboxed;
}

/**
 * cluster.yaml names the sandbox's context and pins its server; the sandbox creates both from the
 * folder name and sandbox.apiServerPort. They must agree, or the tasks would talk to another cluster.
 */
export function checkSandboxFacts(cluster: SandboxCluster): void {
  const file = path.relative(paths.clusters, cluster.file);
  const server = `https://127.0.0.1:${cluster.sandbox.apiServerPort}`;
  const wrong =
    cluster.context !== contextOf(cluster.name)
      ? { key: 'context', problem: `is "${cluster.context}", but the sandbox names this cluster's context "${contextOf(cluster.name)}"`, fix: `context: ${contextOf(cluster.name)}` }
      : cluster.identity.server !== undefined && cluster.identity.server.replace(/\/+$/, '') !== server
        ? { key: 'identity.server', problem: `is ${cluster.identity.server}, but sandbox.apiServerPort puts the API server at ${server}`, fix: `identity.server: ${server}` }
        : undefined;
  if (wrong) throw new BootstrapError({ subject: `clusters/${file}: ${wrong.key}`, problem: wrong.problem, fix: `set ${wrong.fix}` });
}

export function contextOf(name: string): string {
  return `kwok-${name}`;
}

export async function clusterHealthy(name: string): Promise<boolean> {
  try {
    await reachCluster(connect({ kubeconfigPath: sandboxPaths.kubeconfig, context: contextOf(name) }));
    return true;
  } catch {
    return false;
  }
}

const tool = (name: string) => path.join(paths.toolsBin, name);

/** Loopback-only listeners and addresses for every sandbox cluster (see the file's comments). */
export const kwokctlConfig = path.join(import.meta.dirname, 'kwokctl-config.yaml');

export async function createCluster(cluster: SandboxCluster): Promise<void> {
  const { apiServerPort, nodes } = cluster.sandbox;
  if (!(await isPortFree(apiServerPort))) {
    throw new BootstrapError({
      subject: `${path.relative(process.cwd(), cluster.file)}: sandbox.apiServerPort`,
      problem: `port ${apiServerPort} is already in use by another process`,
      fix: 'stop that process, or pick another port (and update identity.server to match)',
    });
  }
  const args = [
    ['--name', cluster.name],
    ['--runtime', 'binary'],
    ['--kube-apiserver-binary', tool('kube-apiserver')],
    ['--kube-controller-manager-binary', tool('kube-controller-manager')],
    ['--kube-scheduler-binary', tool('kube-scheduler')],
    ['--kwok-controller-binary', tool('kwok')],
    ['--etcd-binary', tool('etcd')],
    ['--kube-apiserver-port', String(apiServerPort)],
    ['--kubeconfig', sandboxPaths.kubeconfig],
    ['--enable-crds', 'Stage'],
    ['--wait', '120s'],
  ].flat();
  await kwokctl(['--config', kwokctlConfig, 'create', 'cluster', ...args], cluster.name, 'fix the cause above, then rerun npm run sandbox -- up');
  if (!(await clusterHealthy(cluster.name))) {
    throw new BootstrapError({
      subject: `sandbox cluster ${cluster.name}`,
      problem: `the API server on port ${apiServerPort} does not answer after kwokctl create`,
      fix: `read the component logs under ${path.relative(process.cwd(), path.join(sandboxPaths.kwokWorkdir, 'clusters', cluster.name, 'logs'))}`,
    });
  }
  // With Stage objects enabled kwok loads no default Stages: apply node and pod ones ourselves.
  const stages = parseManifests(await readFile(path.join(import.meta.dirname, 'kwok-default-stages.yaml'), 'utf8'), 'kwok-default-stages.yaml');
  await applyAll(connect({ kubeconfigPath: sandboxPaths.kubeconfig, context: contextOf(cluster.name) }), stages);
  // kwokctl's node template defaults to 192.0.2.x node addresses and 10.0.0.x pod CIDRs: keep
  // both on loopback too (pods take their IPs from their node's podCIDR).
  const loopbackNodes = ['--param', '.nodeIPs=["127.66.0.1"]', '--param', '.podCIDRs=["127.65.0.0/24"]'];
  await kwokctl(['scale', 'node', '--name', cluster.name, '--replicas', String(nodes), ...loopbackNodes], cluster.name, 'read the log named above, then rerun npm run sandbox -- up');
}

/** kwokctl through the one tool runner: its JSON log lines are summarized by their last error. */
function kwokctl(args: string[], cluster: string, fix: string): Promise<string> {
  return runTool({
    tool: 'kwokctl',
    args,
    env: sandboxEnv(),
    cluster: 'sandbox',
    logName: `kwokctl-${args.find((a) => !a.startsWith('-') && a !== kwokctlConfig)}-${cluster}`,
    subject: `sandbox cluster ${cluster}`,
    action: `kwokctl ${args.filter((a) => /^[a-z]+$/.test(a)).slice(0, 2).join(' ')}`,
    summarize: kwokError,
    fix,
  });
}

/** kwokctl logs JSON lines; the last ERROR line's err (or msg) says what went wrong. */
export function kwokError(stderr: string): string {
  const errors = stderr
    .split('\n')
    .map((line) => {
      try {
        return JSON.parse(line) as { level?: string; msg?: string; err?: string };
      } catch {
        return undefined;
      }
    })
    .filter((entry) => entry?.level === 'ERROR');
  const last = errors.at(-1);
  return last ? (last.err ?? last.msg ?? 'unknown error') : stderr.trim().split('\n').at(-1) ?? 'unknown error';
}

/** Restarts a stopped or crashed cluster from its own etcd data: nothing in it is lost. */
export async function startCluster(name: string): Promise<void> {
  // Stop first: start alone leaves the surviving components and the restarted ones at odds.
  // A stop that fails is expected here (the components it would stop have crashed).
  await $({ quiet: true, env: sandboxEnv(), nothrow: true })`kwokctl stop cluster --name ${name}`;
  const started = await $({ quiet: true, env: sandboxEnv(), nothrow: true })`kwokctl start cluster --name ${name}`;
  if (started.exitCode !== 0 || !(await waitHealthy(name))) {
    throw new BootstrapError({
      subject: `sandbox cluster ${name}`,
      problem: `it exists but does not answer, and kwokctl start cluster did not bring it back${started.exitCode !== 0 ? `: ${kwokError(started.stderr)}` : ''}`,
      fix: `read the component logs under ${path.relative(process.cwd(), path.join(sandboxPaths.kwokWorkdir, 'clusters', name, 'logs'))}; to start over (its data is lost): npm run sandbox -- up --recreate`,
    });
  }
}

async function waitHealthy(name: string, seconds = 60): Promise<boolean> {
  for (let i = 0; i < seconds * 2; i++) {
    if (await clusterHealthy(name)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

export async function deleteCluster(name: string): Promise<void> {
  await kwokctl(['delete', 'cluster', '--name', name, '--kubeconfig', sandboxPaths.kubeconfig], name, 'read the log named above; the cluster files are under .sandbox/kwok');
}

/** kwok clusters in the sandbox's workdir (not the user's ~/.kwok). */
export async function existingClusters(): Promise<string[]> {
  const stdout = await kwokctl(['get', 'clusters'], 'list', 'check that kwokctl is built (scripts/build-tools.sh kwok)');
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}
