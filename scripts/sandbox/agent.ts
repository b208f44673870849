// The sandbox agent: one background process, started by `sandbox up` and stopped by `down`, that
// plays for every sandbox cluster what a kwok cluster lacks and the charts expect: admission
// webhook servers (webhook-responder.ts) and operator-driven status (simulations.ts).
// It reads the sandbox kubeconfig afresh on each pass, so restarted or recreated clusters are
// picked up, and it writes .sandbox/agent/ready after its first pass over every cluster.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type Kube } from '../../tasks/lib/cluster/kube.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';
import { contextOf, sandboxClusters } from './clusters.ts';
import { reconcileSimulations, simulationStages } from './simulations.ts';
import { sandboxPaths } from './state.ts';
import { loadOrCreateCa } from '../../tasks/lib/cluster/webhook-certs.ts';
import { reconcileWebhooks, WebhookResponder } from '../../tasks/lib/cluster/webhook-responder.ts';

export const AGENT_SCRIPT = import.meta.filename;

/** A hash of everything the agent runs (its modules and the simulation Stages): a change means a restart. */
export async function agentVersion(): Promise<string> {
  const dir = import.meta.dirname;
  const files = [
    ...(await readdir(dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f)),
    ...(await readdir(path.join(dir, 'simulations'))).map((f) => path.join(dir, 'simulations', f)),
    ...WEBHOOK_MODULES,
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(await readFile(file));
  return hash.digest('hex').slice(0, 16);
}
const PASS_INTERVAL_MS = 1000;
/** Cluster code the agent runs: the responder (the rehearsal runs one too) and the client. */
const WEBHOOK_MODULES = ['webhook-responder.ts', 'webhook-certs.ts', 'kube.ts'].map((f) => path.join(paths.lib, 'cluster', f));

/**
 * One client per cluster, kept while the sandbox kubeconfig is the same file: a new client each
 * pass opened new TLS connections every second, most of the agent's CPU and a share of the
 * sandbox API servers'. A recreated cluster rewrites the kubeconfig: its client is made anew.
 */
function sandboxClients(): { of(cluster: string): Promise<Kube> } {
  const clients = new Map<string, { kube: Kube; written: number }>();
  return {
    of: async (cluster) => {
      const written = (await stat(sandboxPaths.kubeconfig)).mtimeMs;
      const known = clients.get(cluster);
      if (known?.written === written) return known.kube;
      const kube = connect({ kubeconfigPath: sandboxPaths.kubeconfig, context: contextOf(cluster) });
      clients.set(cluster, { kube, written });
      return kube;
    },
  };
}

async function main(): Promise<void> {
  const ca = await loadOrCreateCa(sandboxPaths.agentDir);
  const caBundle = Buffer.from(ca.cert).toString('base64');
  const responder = new WebhookResponder(ca, path.join(sandboxPaths.agentDir, 'webhooks.log'));
  const stages = await simulationStages();
  const lastError = new Map<string, string>();
  process.once('SIGTERM', () => {
    responder.close();
    process.exit(0);
  });
  let clusters: string[] = [];
  const clients = sandboxClients();
  const say = (key: string, message: string) => {
    // Said once per distinct problem: the agent keeps serving whatever it can.
    if (lastError.get(key) !== message) responder.log(`${key}: ${message}`);
    lastError.set(key, message);
  };
  for (let pass = 0; ; pass++) {
    try {
      clusters = (await sandboxClusters()).map((c) => c.name);
      lastError.delete('clusters');
    } catch (error) {
      // A cluster.yaml being edited (or broken on purpose by a test) must not stop the agent.
      say('clusters', `keeping ${clusters.join(', ') || 'no clusters'}: ${error instanceof Error ? error.message.split('\n')[0]! : String(error)}`);
    }
    for (const cluster of clusters) {
      try {
        const kube = await clients.of(cluster);
        for (const name of await reconcileWebhooks(kube, responder, caBundle)) responder.log(`${cluster}: caBundle of ${name} set to the sandbox CA`);
        for (const name of await reconcileSimulations(kube, stages)) responder.log(`${cluster}: simulation Stage ${name} applied`);
        lastError.delete(cluster);
      } catch (error) {
        // A cluster that is down or starting: say it once, keep serving the others.
        say(cluster, error instanceof Error ? error.message.split('\n')[0]! : String(error));
      }
    }
    if (pass === 0) await writeFile(path.join(sandboxPaths.agentDir, 'ready'), `${process.pid}\n`);
    await new Promise((resolve) => setTimeout(resolve, PASS_INTERVAL_MS));
  }
}

if (import.meta.main) await main();
