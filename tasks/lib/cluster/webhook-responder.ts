// The admission responder of a kwok cluster (the sandbox's and the rehearsal's). A kwok cluster runs no webhook servers, yet real charts
// (cert-manager, external-secrets) register admission webhooks with failurePolicy: Fail. The
// kube-apiserver calls a webhook at its Service's ClusterIP, which the sandbox keeps in
// 127.64.0.0/16: this responder listens on exactly those loopback addresses, presents a
// certificate for <service>.<namespace>.svc signed by the sandbox CA, writes that CA into the
// webhook's caBundle (what cainjector or cert-controller do on a real cluster), and answers
// "allowed". Dry-runs and applies then take the real path: API server → webhook → response.
// A webhook configuration labelled sandbox.cluster-bootstrap.io/responder=none is left alone
// (its calls fail at once with "connection refused" on a 127.64.x.x address).
import { appendFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import tls from 'node:tls';
import type { KubernetesObject, V1Service } from '@kubernetes/client-node';
import { readObject, type Kube } from './kube.ts';
import { issueServerCert, type KeyPair } from './webhook-certs.ts';

export const RESPONDER_LABEL = 'sandbox.cluster-bootstrap.io/responder';
const FIELD_MANAGER = 'sandbox-webhook-responder';
const KINDS = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];

interface Webhook {
  name: string;
  clientConfig: { caBundle?: string; service?: { namespace: string; name: string; port?: number; path?: string } };
}
type WebhookConfiguration = KubernetesObject & { webhooks?: Webhook[] };

interface AdmissionReview {
  apiVersion?: string;
  request?: { uid: string; operation?: string; dryRun?: boolean; namespace?: string; name?: string; kind?: { kind?: string } };
}

export class WebhookResponder {
  private readonly servers = new Map<string, https.Server>();
  private readonly failed = new Set<string>();
  private readonly contexts = new Map<string, tls.SecureContext>();
  private readonly ca: KeyPair;
  private readonly fallback: KeyPair;
  private readonly logFile: string;

  constructor(ca: KeyPair, logFile: string) {
    this.ca = ca;
    this.logFile = logFile;
    // Presented only to a client that sends no server name; the API server always sends one.
    this.fallback = issueServerCert(ca, ['sandbox-webhook-responder']);
  }

  log(line: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line}\n`);
  }

  /** The certificate for the name the API server asked for (SNI), made on first use. */
  private contextFor(servername: string): tls.SecureContext {
    let context = this.contexts.get(servername);
    if (!context) {
      const names = [servername, ...(servername.endsWith('.svc') ? [`${servername}.cluster.local`] : [])];
      context = tls.createSecureContext(issueServerCert(this.ca, names));
      this.contexts.set(servername, context);
    }
    return context;
  }

  /** Listens on ip:port once; the same ClusterIP may serve webhooks of several sandbox clusters. */
  async serve(ip: string, port: number): Promise<void> {
    const address = `${ip}:${port}`;
    if (this.servers.has(address) || this.failed.has(address)) return;
    const server = https.createServer(
      { ...this.fallback, SNICallback: (name, done) => done(null, this.contextFor(name)) },
      (request, response) => void this.answer(request, response),
    );
    await new Promise<void>((resolve) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        // Ports below 1024 need root (or CAP_NET_BIND_SERVICE): say so once, keep the rest running.
        this.failed.add(address);
        this.log(`cannot listen on ${address}: ${error.code ?? error.message}; webhooks behind it are not simulated`);
        resolve();
      });
      server.listen({ host: ip, port }, () => {
        this.servers.set(address, server);
        this.log(`listening on ${address}`);
        resolve();
      });
    });
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let review: AdmissionReview;
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
    } catch {
      response.writeHead(400).end('not an AdmissionReview');
      return;
    }
    const req = review.request;
    if (!req?.uid) {
      response.writeHead(400).end('AdmissionReview without request.uid');
      return;
    }
    const servername = (request.socket as tls.TLSSocket).servername || '-';
    this.log(`${servername}${request.url ?? ''} ${req.operation ?? '?'} ${req.kind?.kind ?? '?'} ${req.namespace ? `${req.namespace}/` : ''}${req.name ?? ''} dryRun=${req.dryRun === true} allowed`);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: req.uid, allowed: true } }));
  }

  close(): void {
    for (const server of this.servers.values()) server.close();
  }
}

/**
 * For every service-backed webhook of the cluster: serve its Service's ClusterIP and port, and
 * make its caBundle the sandbox CA. Returns the configurations whose caBundle it wrote.
 */
export async function reconcileWebhooks(kube: Kube, responder: WebhookResponder, caBundle: string): Promise<string[]> {
  const injected: string[] = [];
  for (const kind of KINDS) {
    const list = await kube.objects.list('admissionregistration.k8s.io/v1', kind);
    for (const item of list.items as WebhookConfiguration[]) {
      if (item.metadata?.labels?.[RESPONDER_LABEL] === 'none') continue;
      const config: WebhookConfiguration = { ...item, apiVersion: 'admissionregistration.k8s.io/v1', kind };
      let changed = false;
      for (const webhook of config.webhooks ?? []) {
        const ref = webhook.clientConfig.service;
        if (!ref) continue;
        const service = await readObject<V1Service>(kube, { apiVersion: 'v1', kind: 'Service', metadata: { name: ref.name, namespace: ref.namespace } });
        const ip = service?.spec?.clusterIP;
        if (!ip || ip === 'None') continue;
        await responder.serve(ip, ref.port ?? 443);
        if (webhook.clientConfig.caBundle !== caBundle) {
          webhook.clientConfig.caBundle = caBundle;
          changed = true;
        }
      }
      if (changed) {
        // A replace carries the resourceVersion read above: a concurrent change wins, and the next pass retries.
        await kube.objects.replace(config, undefined, undefined, FIELD_MANAGER);
        injected.push(`${kind}/${config.metadata?.name}`);
      }
    }
  }
  return injected;
}
