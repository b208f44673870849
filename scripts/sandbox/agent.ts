// The sandbox agent: one background process, started by `sandbox up` and stopped by `down`, that
// plays for every sandbox cluster what a kwok cluster lacks and the charts expect: admission
// webhook servers (webhook-responder.ts) and operator-driven status (simulations.ts).
// It reads the sandbox kubeconfig afresh on each pass, so restarted or recreated clusters are
// picked up, and it writes .sandbox/agent/ready after its first pass over every cluster.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '../../tasks/lib/kube.ts';
import { contextOf, sandboxClusters } from './clusters.ts';
import { reconcileSimulations, simulationStages } from './simulations.ts';
import { sandboxPaths } from './state.ts';
import { loadOrCreateCa } from './webhook-certs.ts';
import { reconcileWebhooks, WebhookResponder } from './webhook-responder.ts';

export const AGENT_SCRIPT = import.meta.filename;
const PASS_INTERVAL_MS = 1000;

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
  for (let pass = 0; ; pass++) {
    for (const cluster of await sandboxClusters()) {
      try {
        const kube = connect({ kubeconfigPath: sandboxPaths.kubeconfig, context: contextOf(cluster.name) });
        for (const name of await reconcileWebhooks(kube, responder, caBundle)) responder.log(`${cluster.name}: caBundle of ${name} set to the sandbox CA`);
        for (const name of await reconcileSimulations(kube, stages)) responder.log(`${cluster.name}: simulation Stage ${name} applied`);
        lastError.delete(cluster.name);
      } catch (error) {
        // A cluster that is down or starting: say it once, keep serving the others.
        const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        if (lastError.get(cluster.name) !== message) responder.log(`${cluster.name}: ${message}`);
        lastError.set(cluster.name, message);
      }
    }
    if (pass === 0) await writeFile(path.join(sandboxPaths.agentDir, 'ready'), `${process.pid}\n`);
    await new Promise((resolve) => setTimeout(resolve, PASS_INTERVAL_MS));
  }
}

if (import.meta.main) await main();
