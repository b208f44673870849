// One kwok cluster per clusters/<name> with a sandbox section: a real etcd, kube-apiserver,
// controller-manager and scheduler (built from upstream), and kwok simulating nodes and pods.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { kwokctlKubernetesArgs } from '../../tasks/lib/cluster/feature-gates.ts';
import { loadMachineWritten } from '../../tasks/lib/runtime/yaml.ts';
import { $ } from 'zx';
import { clusterNames, loadCluster, type ClusterConfig } from '../../tasks/lib/model/config.ts';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import type { Logger } from '../../tasks/lib/runtime/log.ts';
import { createKwokCluster, deleteKwokCluster, kwokctl, kwokError } from '../../tasks/lib/cluster/kwok-cluster.ts';
import { reachCluster } from '../../tasks/lib/cluster/identity.ts';
import { connect } from '../../tasks/lib/cluster/kube.ts';
import { paths, relative } from '../../tasks/lib/runtime/workspace.ts';
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

/**
 * Refuses a running cluster whose API server lacks what cluster.yaml's kubernetes section declares
 * (kwokctl keeps its options in the cluster's kwok.yaml): it was created before they were declared.
 */
export async function checkRunsDeclaredKubernetes(cluster: SandboxCluster): Promise<void> {
  const file = path.join(sandboxPaths.kwokWorkdir, 'clusters', cluster.name, 'kwok.yaml');
  const text = await readFile(file, 'utf8').catch(() => '');
  const documents = loadMachineWritten(text) as Array<{ kind?: string; options?: Record<string, string> } | null>;
  const options = documents.find((d) => d?.kind === 'KwokctlConfiguration')?.options ?? {};
  const declared = kwokctlKubernetesArgs(cluster);
  const running = [...(options['kubeFeatureGates'] ? ['--kube-feature-gates', options['kubeFeatureGates']] : []), ...(options['kubeRuntimeConfig'] ? ['--kube-runtime-config', options['kubeRuntimeConfig']] : [])];
  if (text && declared.join(' ') !== running.join(' ')) {
    throw new BootstrapError({
      subject: `sandbox cluster ${cluster.name}`,
      problem: `runs with ${running.join(' ') || 'no feature gates or runtime config'}, but ${relative(cluster.file)} declares ${declared.join(' ') || 'none'} (kubernetes.featureGates, kubernetes.runtimeConfig)`,
      fix: 'recreate it: npm run sandbox -- up --recreate (its data is lost)',
    });
  }
}

const kwokSpec = (name: string) => ({ name, workdir: sandboxPaths.kwokWorkdir, kubeconfig: sandboxPaths.kubeconfig, logCluster: 'sandbox' });

export async function createCluster(cluster: SandboxCluster, log: Pick<Logger, 'warning'>): Promise<void> {
  const { apiServerPort, nodes } = cluster.sandbox;
  if (!(await isPortFree(apiServerPort))) {
    throw new BootstrapError({
      subject: `${path.relative(process.cwd(), cluster.file)}: sandbox.apiServerPort`,
      problem: `port ${apiServerPort} is already in use by another process`,
      fix: 'stop that process, or pick another port (and update identity.server to match)',
    });
  }
  await createKwokCluster({ ...kwokSpec(cluster.name), apiServerPort, nodes, declaredBy: cluster }, 'fix the cause above, then rerun npm run sandbox -- up', log);
  if (!(await clusterHealthy(cluster.name))) {
    throw new BootstrapError({
      subject: `sandbox cluster ${cluster.name}`,
      problem: `the API server on port ${apiServerPort} does not answer after kwokctl create`,
      fix: `read the component logs under ${path.relative(process.cwd(), path.join(sandboxPaths.kwokWorkdir, 'clusters', cluster.name, 'logs'))}`,
    });
  }
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
  await deleteKwokCluster(kwokSpec(name), 'read the log named above; the cluster files are under .sandbox/kwok');
}

/** kwok clusters in the sandbox's workdir (not the user's ~/.kwok). */
export async function existingClusters(): Promise<string[]> {
  const stdout = await kwokctl(kwokSpec('list'), ['get', 'clusters'], 'check that kwokctl is built (scripts/build-tools.sh kwok)');
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}
