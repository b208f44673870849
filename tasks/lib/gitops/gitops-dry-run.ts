// verify's GitOps check: what Flux applies first (Kustomizations with no dependsOn), built as
// Flux builds it, must be accepted by the API server now. A server-side dry-run writes nothing.
// Only kinds the bootstrap serves are judged here: later layers' kinds come from HelmReleases and
// operators that Flux has not run yet (audit judges their order).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ManifestEntry } from '../model/crd-bundle.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { pause } from '../runtime/interrupt.ts';
import { servedByBootstrap } from './flux-audit.ts';
import type { FluxTree } from './flux-tree.ts';
import { readObject, serverSideApply, type Kube } from '../cluster/kube.ts';

export interface DryRunOutcome {
  accepted: number;
  rejected: Array<{ file: string; object: string; message: string }>;
  /** Why some objects were not sent, with counts. */
  skipped: Record<string, number>;
  /** Objects dry-run in another namespace because Flux creates theirs on the way. */
  retargeted: number;
}

/** Webhook and connection errors that a starting webhook server clears on its own. */
const TRANSIENT = /failed calling webhook|connection refused|no endpoints available|context deadline exceeded|i\/o timeout|ServiceUnavailable|the server is currently unable/i;

const isSopsEncrypted = (o: KubernetesObject) => o.kind === 'Secret' && 'sops' in o;

export interface FirstLayerObject {
  file: string;
  object: KubernetesObject;
}

/** The objects of the Kustomizations that start first, with kinds the bootstrap serves. */
export function firstLayerObjects(tree: FluxTree, builtin: Set<string>, bundle: ManifestEntry[]): { objects: FirstLayerObject[]; skipped: Record<string, number> } {
  const objects: FirstLayerObject[] = [];
  const skipped: Record<string, number> = {};
  const skip = (why: string) => (skipped[why] = (skipped[why] ?? 0) + 1);
  for (const k of tree.kustomizations) {
    if (k.dependsOn.length > 0) {
      k.objects.forEach(() => skip('in a later layer (after a dependsOn)'));
      continue;
    }
    for (const { file, object } of k.objects) {
      if (isSopsEncrypted(object)) skip('SOPS-encrypted Secret (Flux decrypts it)');
      else if (!servedByBootstrap(object.apiVersion ?? '', object.kind ?? '', builtin, bundle)) skip('of a kind served later (by an operator or a HelmRelease)');
      else objects.push({ file, object });
    }
  }
  return { objects, skipped };
}

export async function dryRunFirstLayer(kube: Kube, first: { objects: FirstLayerObject[]; skipped: Record<string, number> }, timeoutMs: number): Promise<DryRunOutcome> {
  const outcome: DryRunOutcome = { accepted: 0, rejected: [], skipped: first.skipped, retargeted: 0 };
  const namespaces = new Map<string, boolean>();
  const exists = async (name: string) => {
    if (!namespaces.has(name)) namespaces.set(name, (await readObject(kube, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })) !== undefined);
    return namespaces.get(name)!;
  };
  const deadline = Date.now() + timeoutMs;
  for (const { file, object } of first.objects) {
    let candidate = object;
    const namespace = object.metadata?.namespace;
    // Flux applies a Namespace before what goes in it; a dry-run creates neither, so an object
    // whose namespace comes with the tree is judged in "default" (schema and admission do not
    // depend on the namespace's name).
    if (namespace && !(await exists(namespace))) {
      candidate = { ...object, metadata: { ...object.metadata, namespace: 'default' } };
      outcome.retargeted++;
    }
    const message = await dryRunWithRetry(kube, candidate, deadline);
    if (message === undefined) outcome.accepted++;
    else outcome.rejected.push({ file, object: `${object.kind} ${namespace ? `${namespace}/` : ''}${object.metadata?.name}`, message });
  }
  return outcome;
}

/** undefined when accepted; the API server's message when rejected. Transient webhook errors are retried until the deadline. */
async function dryRunWithRetry(kube: Kube, object: KubernetesObject, deadline: number): Promise<string | undefined> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      await serverSideApply(kube, object, { dryRun: true });
      return undefined;
    } catch (error) {
      const message = error instanceof BootstrapError ? error.problem : String(error);
      if (!TRANSIENT.test(message) || Date.now() > deadline) return message.split('\n')[0]!;
      await pause(Math.min(500 * 2 ** attempt, 5000), `the webhooks to accept a dry-run of ${object.kind} ${object.metadata?.name}`, started);
    }
  }
}
