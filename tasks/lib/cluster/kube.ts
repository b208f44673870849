// The one door to the Kubernetes API: a named context from an explicit kubeconfig,
// server-side apply with a fixed field manager, reads that treat 404 as "not there",
// and errors that name the resource instead of dumping a raw API exception.
import type {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  Watch,
  ApiException as ClientApiException,
  KubernetesObject,
  RequestContext,
} from '@kubernetes/client-node';
import { kubeClient } from './kube-client.ts';
import { jsonGetter, openKubeConfig, type ApiReader, type KubeTarget } from './api-reader.ts';
import type { Crd, LiveCrd } from '../model/crd-bundle.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { duringWrite, pause } from '../runtime/interrupt.ts';

/** The client's API error (the bundled class when the bundle is loaded: instanceof needs this one). */
export const ApiException = kubeClient.ApiException;
export type ApiException<T> = ClientApiException<T>;

/** Every write of this tool is owned by this field manager, so reruns and drift are attributable. */
export const FIELD_MANAGER = 'cluster-bootstrap';
/**
 * core's manager for the keep annotation alone: applying only an annotation under FIELD_MANAGER
 * would make the API server drop every other field that manager owns (server-side apply semantics).
 */
export const KEEP_FIELD_MANAGER = 'cluster-bootstrap-keep';

export type { KubeTarget };

export interface Kube extends ApiReader {
  core: CoreV1Api;
  apiextensions: ApiextensionsV1Api;
  customObjects: CustomObjectsApi;
  objects: KubernetesObjectApi;
  watch: Watch;
}

export function connect(target: KubeTarget): Kube {
  const { config, server } = openKubeConfig(kubeClient.KubeConfig, target);
  reuseConnections(config);
  return {
    context: target.context,
    server,
    core: config.makeApiClient(kubeClient.CoreV1Api),
    apiextensions: config.makeApiClient(kubeClient.ApiextensionsV1Api),
    customObjects: config.makeApiClient(kubeClient.CustomObjectsApi),
    objects: kubeClient.KubernetesObjectApi.makeApiClient(config),
    watch: new kubeClient.Watch(config),
    getJson: jsonGetter(config, server),
  };
}

/**
 * client-node 2.0.1 gives every request a new undici Agent (applySecurityAuthentication builds a
 * dispatcher each time), so every request opened its own TLS connection with the client
 * certificate: in a rehearsal of the generated tree, TLS handshakes were a third of the
 * process's CPU, and as much again on the API server's side. One dispatcher per client, the first
 * one made, carries every request: connections are pooled and kept alive.
 */
function reuseConnections(config: InstanceType<typeof kubeClient.KubeConfig>): void {
  const authenticate = config.applySecurityAuthentication.bind(config);
  let shared: ReturnType<RequestContext['getDispatcher']>;
  config.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    const made = context.getDispatcher();
    if (!made) return;
    shared ??= made;
    if (made !== shared) {
      context.setDispatcher(shared);
      void made.close(); // never connected: closes at once
    }
  };
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** Default FIELD_MANAGER; another manager owns only the fields it applies. */
  fieldManager?: string;
}

/**
 * Server-side apply. Client-side apply stores the whole object in an annotation, which fails
 * for CRDs over 256 KB (FACTS E4); server-side apply has no such limit.
 * Objects must come from toClientObject so the client's serializer keeps `x-kubernetes-*` keys;
 * CRDs go through applyCrd.
 */
export async function serverSideApply<T extends KubernetesObject>(
  kube: Kube,
  object: T,
  { dryRun = false, fieldManager = FIELD_MANAGER }: ApplyOptions = {},
): Promise<T> {
  try {
    const apply = () =>
      kube.objects.patch(
        object,
        undefined,
        dryRun ? 'All' : undefined,
        fieldManager,
        // Take over fields another manager (e.g. Helm, kubectl) set, as a migration requires.
        true,
        kubeClient.PatchStrategy.ServerSideApply,
      );
    // A real write finishes even after the first SIGINT/SIGTERM (interrupt.ts).
    return await (dryRun ? apply() : duringWrite(apply));
  } catch (cause) {
    throw apiError(groupNotServed(cause, object) ?? cause, describe(object), dryRun ? 'server-side dry-run failed' : 'server-side apply failed');
  }
}

/**
 * The client asks discovery for the object's group/version first. A group the cluster serves
 * no kind of answers a plain "404 page not found" (a served group without the kind gives the
 * client's "Unrecognized API version and kind"): both mean "no matches for kind".
 */
function groupNotServed(cause: unknown, object: KubernetesObject): Error | undefined {
  if (!(cause instanceof ApiException) || cause.code !== 404 || !/404 page not found/.test(String(cause.body))) return undefined;
  return new Error(`Unrecognized API version and kind: ${object.apiVersion} ${object.kind}`, { cause });
}

// CRDs travel as plain JSON, through the client's untyped custom-object calls on
// apiextensions.k8s.io. Its typed models rename schema keys (enum → _enum, x-kubernetes-* →
// x_kubernetes_*, client-node #2962), and building them for a 4 MB bundle, and converting them
// back for every comparison, cost time and a second copy of every schema on each run.
const CRD_RESOURCE = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' } as const;
const APPLY_CONTENT_TYPE = kubeClient.setHeaderOptions('Content-Type', kubeClient.PatchStrategy.ServerSideApply);

/** Server-side apply of one CRD, as it is on the wire; returns the object the API server stored (or would). */
export async function applyCrd(kube: Kube, crd: Crd, { dryRun = false, fieldManager = FIELD_MANAGER }: ApplyOptions = {}): Promise<LiveCrd> {
  try {
    const apply = () =>
      kube.customObjects.patchClusterCustomObject(
        { ...CRD_RESOURCE, name: crd.metadata.name, body: crd, dryRun: dryRun ? 'All' : undefined, fieldManager, force: true },
        APPLY_CONTENT_TYPE,
      );
    return (await (dryRun ? apply() : duringWrite(apply))) as LiveCrd;
  } catch (cause) {
    throw apiError(cause, describe(crd), dryRun ? 'server-side dry-run failed' : 'server-side apply failed');
  }
}

/** Every CRD in the cluster, by name, as it is on the wire (with apiVersion and kind set). */
export async function listCrds(kube: Kube): Promise<Map<string, LiveCrd>> {
  try {
    const list = (await kube.customObjects.listClusterCustomObject(CRD_RESOURCE)) as { items: LiveCrd[] };
    return new Map(list.items.map((crd) => [crd.metadata.name, { ...crd, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }]));
  } catch (cause) {
    throw apiError(cause, 'CustomResourceDefinitions', 'list failed');
  }
}

/** The part of a live CRD its readiness is judged on. */
export type CrdState = Pick<LiveCrd, 'status'> & { metadata: { name: string } };

/**
 * Every CRD, kept current by a watch (no resourceVersion: the API server sends each existing CRD
 * first, then every change). `ended` is set when the watch stops (server timeout, network):
 * the caller then lists instead.
 */
export async function watchCrds(kube: Kube): Promise<{ live: Map<string, CrdState>; ended: () => boolean; stop: () => void }> {
  // Only what readiness reads is kept: the whole CRDs would be a second copy of the bundle.
  const live = new Map<string, CrdState>();
  let ended = false;
  const path = `/apis/${CRD_RESOURCE.group}/${CRD_RESOURCE.version}/${CRD_RESOURCE.plural}`;
  const controller = await kube.watch.watch(
    path,
    {},
    (type: string, crd: LiveCrd) => {
      if (type === 'DELETED') live.delete(crd.metadata.name);
      else if (type === 'ADDED' || type === 'MODIFIED') live.set(crd.metadata.name, { metadata: { name: crd.metadata.name }, status: crd.status });
    },
    () => {
      ended = true;
    },
  );
  return { live, ended: () => ended, stop: () => controller.abort() };
}

/**
 * Prepares an object for the typed client (serverSideApply). It serializes built-in kinds
 * through its models; a plain object loses keys such as `x-kubernetes-preserve-unknown-fields`,
 * so objects go through the client's own loader first.
 */
export function toClientObject<T extends KubernetesObject>(object: T): T {
  const [loaded] = kubeClient.loadAllYaml(JSON.stringify(object));
  return loaded as T;
}

/** Reads an object; undefined when it does not exist. */
export async function readObject<T extends KubernetesObject>(kube: Kube, header: KubernetesObject): Promise<T | undefined> {
  try {
    return (await kube.objects.read(header as Parameters<KubernetesObjectApi['read']>[0])) as T;
  } catch (cause) {
    if (isNotFound(cause)) return undefined;
    throw apiError(cause, describe(header), 'read failed');
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

/** Lists objects of one kind with apiVersion and kind set on each (list items come without them). */
export async function listObjects(kube: Kube, apiVersion: string, kind: string, namespace?: string): Promise<KubernetesObject[]> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return (await kube.objects.list(apiVersion, kind, namespace)).items.map((item) => ({ ...item, apiVersion, kind }));
    } catch (cause) {
      // 429 "storage is (re)initializing": the API server rebuilds a CRD's storage for a moment
      // after the CRD changed. It says when to come back.
      if (!(cause instanceof ApiException && cause.code === 429) || attempt === 20) throw apiError(cause, `${kind} (${apiVersion})`, 'list failed');
      const after = Number(cause.headers['retry-after'] ?? 1);
      await pause(Math.min(Math.max(after, 0.2), 5) * 1000, `the API server to serve ${kind} (${apiVersion}) again`, started);
    }
  }
}

/** "Kind namespace/name" for messages. */
export function describe(object: KubernetesObject): string {
  const { namespace, name } = object.metadata ?? {};
  return `${object.kind ?? 'object'} ${namespace ? `${namespace}/` : ''}${name ?? '(unnamed)'}`;
}

/** Turns an API or network failure into a BootstrapError with the server's own message only. */
export function apiError(cause: unknown, subject: string, action: string): BootstrapError {
  if (cause instanceof ApiException) {
    const message = statusMessage(cause);
    return new BootstrapError({
      subject,
      problem: `${action}: ${message} (HTTP ${cause.code})`,
      fix: fixForWebhook(message) ?? fixForStatus(cause.code),
      cause,
    });
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  // The client looks the kind up in discovery before sending anything: this is the API's
  // "no matches for kind", raised on our side.
  const unknownKind = /Unrecognized API version and kind: (\S+) (\S+)/.exec(message);
  if (unknownKind) {
    return new BootstrapError({
      subject,
      problem: `${action}: no matches for kind "${unknownKind[2]}" in version "${unknownKind[1]}" (the cluster does not serve it)`,
      fix: 'install its CRD first: that is what the crds phase does (nx run <cluster>:crds)',
      cause,
    });
  }
  // fetch wraps the network error ("fetch failed"); its cause says what happened (ECONNREFUSED, …).
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : undefined;
  const detail = inner ? `${firstLine(message)} (${(inner as NodeJS.ErrnoException).code ?? firstLine(inner.message)})` : firstLine(message);
  return new BootstrapError({
    subject,
    problem: `${action}: ${detail}`,
    fix: 'check that the API server is reachable from this machine',
    cause,
  });
}

function statusMessage(error: ApiException<unknown>): string {
  const body = error.body;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  try {
    const status = JSON.parse(text) as { message?: string };
    if (status.message) return status.message;
  } catch {
    // Not a Status object: fall through to a generic text.
  }
  return text ? firstLine(text).slice(0, 300) : 'no details from the server';
}

/** An admission webhook nobody answers: name it and its address, not a generic HTTP hint. */
export function fixForWebhook(message: string): string | undefined {
  const unreachable = /failed calling webhook "([^"]+)".*?dial tcp ([\d.:a-f[\]]+): connect: connection refused/.exec(message);
  if (!unreachable) return undefined;
  const [, webhook, address] = unreachable;
  return (
    `no server answers webhook "${webhook}" at ${address}: on a real cluster, check that the webhook's Deployment is Available; ` +
    'in the sandbox, the sandbox agent answers webhooks (npm run sandbox -- up) unless their configuration is labelled sandbox.cluster-bootstrap.io/responder=none'
  );
}

function fixForStatus(code: number): string | undefined {
  if (code === 401 || code === 403) return 'the context lacks permission; use credentials with cluster-admin rights for the bootstrap';
  if (code === 404) return 'the kind or its namespace does not exist yet: check the CRD phase ran and the namespace is in prerequisites/';
  if (code === 409) return 'another field manager owns this field; inspect managedFields and resolve the conflict';
  if (code === 422 || code === 400) return 'the manifest is invalid for this cluster: fix the field named above';
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
