// Keeps a kwok cluster's admission webhooks answered for as long as it runs: every second, each
// webhook Service that has appeared gets the responder on its ClusterIP (webhook-responder.ts).
import type { Kube } from './kube.ts';
import { createCa } from './webhook-certs.ts';
import { reconcileWebhooks, WebhookResponder } from './webhook-responder.ts';

export function keepWebhooksAnswered(kube: Kube, logFile: string): { stop(): Promise<void> } {
  const ca = createCa();
  const responder = new WebhookResponder(ca, logFile);
  const caBundle = Buffer.from(ca.cert).toString('base64');
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await reconcileWebhooks(kube, responder, caBundle).catch((error: unknown) => responder.log(`webhooks: ${error instanceof Error ? error.message : String(error)}`));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      responder.close();
    },
  };
}
