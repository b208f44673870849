// Opening a kubeconfig's context, and GETs of raw API paths: what kube.ts's full client and the
// light reader of kube-config.ts (for tasks/live-state.ts, on every Nx hash) share. No client code
// is imported here: the KubeConfig class is passed in, from whichever bundle the caller loaded.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { BootstrapError } from '../runtime/errors.ts';

export interface KubeTarget {
  /** Absolute kubeconfig path; undefined means $KUBECONFIG or ~/.kube/config. */
  kubeconfigPath: string | undefined;
  context: string;
}

export interface ApiReader {
  context: string;
  /** The API server URL behind the context. */
  server: string;
  /** GET of a raw API path (e.g. /openapi/v3), parsed as JSON; rejects with an HttpStatusError on a status other than 200. `accept` asks for another representation (aggregated discovery, metadata-only lists). */
  getJson(apiPath: string, accept?: string): Promise<unknown>;
}

export class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, apiPath: string) {
    super(`GET ${apiPath}: HTTP ${status}`);
    this.status = status;
  }
}

/** The kubeconfig at the context, or an error naming the file or the context and the fix. */
export function openKubeConfig(KubeConfigClass: new () => KubeConfig, { kubeconfigPath, context }: KubeTarget): { config: KubeConfig; server: string } {
  const config = new KubeConfigClass();
  const source = kubeconfigPath ?? '$KUBECONFIG or ~/.kube/config';
  try {
    if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
    else config.loadFromDefault();
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new BootstrapError({
      subject: `kubeconfig ${source}`,
      problem: `cannot be read: ${reason}`,
      fix: 'check the kubeconfig path in cluster.yaml (or $KUBECONFIG); for the sandbox run `npm run sandbox -- up`',
      cause,
    });
  }
  // setCurrentContext does not validate the name: check it ourselves before any client is made.
  const contextObject = config.getContextObject(context);
  if (!contextObject) {
    const known = config.getContexts().map((c) => c.name);
    throw new BootstrapError({
      subject: `context "${context}"`,
      problem: `not found in kubeconfig ${source}`,
      fix: known.length ? `use one of: ${known.join(', ')}` : 'the kubeconfig has no contexts',
    });
  }
  config.setCurrentContext(context);
  return { config, server: config.getCluster(contextObject.cluster)?.server ?? '' };
}

/** getJson over one keep-alive agent: the client's own agent opens a TLS connection per request (about 10 ms each). */
export function jsonGetter(config: KubeConfig, server: string): ApiReader['getJson'] {
  let agent: https.Agent | undefined;
  return async (apiPath, accept) => {
    const options: https.RequestOptions = {};
    await config.applyToHTTPSOptions(options);
    // A proxy's agent (hpagent, socks) is kept as it is.
    if (options.agent?.constructor === https.Agent) {
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
      options.agent = agent ??= new https.Agent({ keepAlive: true, ca, cert, key, pfx, passphrase, rejectUnauthorized, servername });
    }
    if (accept) options.headers = { ...options.headers, Accept: accept };
    return new Promise((resolve, reject) => {
      const request = https.get(`${server.replace(/\/$/, '')}${apiPath}`, options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) return reject(new HttpStatusError(response.statusCode ?? 0, apiPath.split('?')[0]!));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()));
          } catch (error) {
            reject(error as Error);
          }
        });
      });
      request.on('error', reject);
    });
  };
}
