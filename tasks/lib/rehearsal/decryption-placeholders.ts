// The decryption Secrets a tree's Kustomizations name (spec.decryption.secretRef), as empty
// placeholders: the rehearsal's tree has no SOPS document left to decrypt (tree-artifact.ts), but
// kustomize-controller still reads the Secret it is told to. They live in the Kustomizations'
// namespaces, which the tree itself creates: each is created as soon as its namespace exists.
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyAll } from '../cluster/apply.ts';
import { listObjects, type Kube } from '../cluster/kube.ts';
import { startPoller } from '../runtime/poller.ts';

type Obj = KubernetesObject & { spec?: Record<string, any> };

export function decryptionSecretsOf(objects: Obj[]): KubernetesObject[] {
  const refs = new Map<string, KubernetesObject>();
  for (const k of objects.filter((o) => o.kind === 'Kustomization' && o.apiVersion?.startsWith('kustomize.toolkit.fluxcd.io/'))) {
    const name = k.spec?.['decryption']?.['secretRef']?.['name'];
    const namespace = k.metadata?.namespace ?? 'flux-system';
    if (name) refs.set(`${namespace}/${name}`, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, annotations: { 'rehearsal.cluster-bootstrap.io/placeholder': 'true' } } });
  }
  return [...refs.values()];
}

/** Keeps creating the placeholders whose namespace has appeared, until stopped. */
export function keepDecryptionPlaceholders(kube: Kube, secrets: KubernetesObject[]): { stop(): Promise<void> } {
  const pending = new Set(secrets);
  return startPoller(async () => {
    if (pending.size === 0) return 'done';
    const namespaces = new Set((await listObjects(kube, 'v1', 'Namespace').catch(() => [])).map((n) => n.metadata?.name));
    const ready = [...pending].filter((s) => namespaces.has(s.metadata?.namespace));
    if (ready.length) {
      await applyAll(kube, ready).catch(() => undefined);
      for (const secret of ready) pending.delete(secret);
    }
    return pending.size === 0 ? 'done' : undefined;
  }, 500);
}
