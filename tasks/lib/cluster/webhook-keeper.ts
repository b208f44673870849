// Keeps a kwok cluster's admission webhooks answered for as long as it runs: every second, each
// webhook Service that has appeared gets the responder on its ClusterIP (webhook-responder.ts).
import type { Kube } from './kube.ts';
import { createCa } from './webhook-certs.ts';
import { reconcileWebhooks, WebhookResponder } from './webhook-responder.ts';
import { startPoller } from '../runtime/poller.ts';

export function keepWebhooksAnswered(kube: Kube, logFile: string): { stop(): Promise<void> } {
  const ca = createCa();
  const responder = new WebhookResponder(ca, logFile);
  const caBundle = Buffer.from(ca.cert).toString('base64');
  const poller = startPoller(async () => {
    await reconcileWebhooks(kube, responder, caBundle).catch((error: unknown) => responder.log(`webhooks: ${error instanceof Error ? error.message : String(error)}`));
  }, 1000);
  return {
    stop: async () => {
      await poller.stop();
      responder.close();
    },
  };
}
