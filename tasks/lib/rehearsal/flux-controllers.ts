// Flux's own source-controller and kustomize-controller (built from the Go module proxy,
// scripts/build-tools.sh) as host processes against the rehearsal's cluster. Every listener is on
// 127.0.0.1 (their defaults listen on all interfaces); nothing they dial leaves loopback:
// source-controller watches only the sources the rehearsal labels (the synced tree, served on
// loopback), never the tree's chart repositories on public registries; kustomize-controller
// refuses remote bases. Both stop by the PIDs started here.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startChild, stopChild } from '../runtime/children.ts';
import { freePort } from '../runtime/free-port.ts';
import { requireTool } from '../tools/run-tool.ts';

/** The label source-controller's --watch-label-selector matches: only our sources are fetched. */
export const REHEARSAL_SOURCE_LABEL = 'rehearsal.cluster-bootstrap.io/source';

export interface FluxControllers {
  /** Every address a controller listens on, for the loopback check. */
  listeners: string[];
  logs: { source: string; kustomize: string };
  /** A controller that exited on its own, with its exit code. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

/** `extraArgs`: per controller, the flags the FluxInstance's kustomize.patches add (flux-operator-builds.ts). */
export async function startFluxControllers(kubeconfig: string, dir: string, extraArgs: Record<string, string[]> = {}): Promise<FluxControllers> {
  await mkdir(path.join(dir, 'storage'), { recursive: true });
  const [storage, sourceMetrics, sourceHealth, kustomizeMetrics, kustomizeHealth] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const env = { ...process.env, KUBECONFIG: kubeconfig, RUNTIME_NAMESPACE: 'flux-system' };
  // Fast rehearsal: a dependency is rechecked every 1s (default 30s), no jitter on intervals. A
  // Kustomization waiting for its health checks holds a worker (kustomize-controller polls every
  // 5 s inside the reconcile): with 8 workers, the generated tree's rechecks queued behind eight
  // such waits and came 20 s late. Workers are goroutines: 32 cost nothing.
  const common = ['--enable-leader-election=false', '--log-encoding=console', '--requeue-dependency=1s', '--interval-jitter-percentage=0', '--concurrent=32'];
  const logs = { source: path.join(dir, 'source-controller.log'), kustomize: path.join(dir, 'kustomize-controller.log') };
  const start = (tool: string, args: string[], log: string) => {
    const child = startChild(requireTool(tool), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(log);
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return child;
  };
  const source = start('source-controller', [
    ...common,
    `--storage-path=${path.join(dir, 'storage')}`,
    `--storage-addr=127.0.0.1:${storage}`,
    `--storage-adv-addr=127.0.0.1:${storage}`,
    `--metrics-addr=127.0.0.1:${sourceMetrics}`,
    `--health-addr=127.0.0.1:${sourceHealth}`,
    `--watch-label-selector=${REHEARSAL_SOURCE_LABEL}=true`,
    ...(extraArgs['source-controller'] ?? []),
  ], logs.source);
  const kustomize = start('kustomize-controller', [
    ...common,
    `--metrics-addr=127.0.0.1:${kustomizeMetrics}`,
    `--health-addr=127.0.0.1:${kustomizeHealth}`,
    '--no-remote-bases=true',
    ...(extraArgs['kustomize-controller'] ?? []),
  ], logs.kustomize);
  const children = { 'source-controller': source, 'kustomize-controller': kustomize };
  return {
    listeners: [storage, sourceMetrics, sourceHealth, kustomizeMetrics, kustomizeHealth].map((port) => `127.0.0.1:${port}`),
    logs,
    exited: () => {
      const gone = Object.entries(children).find(([, child]) => child.exitCode !== null);
      return gone && `${gone[0]} exited with code ${gone[1].exitCode} (log: ${gone[0] === 'source-controller' ? logs.source : logs.kustomize})`;
    },
    stop: async () => {
      await Promise.all([stopChild(source), stopChild(kustomize)]);
    },
  };
}
