// The identity guard: before any write, prove the context points at the cluster that
// cluster.yaml describes. A context that silently points at another cluster is refused.
import type { ClusterConfig } from '../model/config.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { apiError, type Kube } from './kube.ts';
import { relative } from '../runtime/workspace.ts';

function normalizeServer(url: string): string {
  return url.replace(/\/+$/, '').toLowerCase();
}

/** Reads kube-system: proves the API answers and yields the cluster's UID. */
export async function reachCluster(kube: Kube): Promise<string> {
  try {
    const namespace = await kube.core.readNamespace({ name: 'kube-system' });
    return namespace.metadata?.uid ?? '';
  } catch (cause) {
    throw apiError(cause, `context "${kube.context}" (${kube.server})`, 'the API server does not answer');
  }
}

export async function guardIdentity(kube: Kube, cluster: ClusterConfig): Promise<void> {
  const file = relative(cluster.file);
  const { server, kubeSystemUID } = cluster.identity;
  if (server && normalizeServer(kube.server) !== normalizeServer(server)) {
    throw new BootstrapError({
      subject: `${file}: identity.server`,
      problem: `context "${kube.context}" points at ${kube.server}, but cluster "${cluster.name}" pins ${server}; refusing to touch it`,
      fix: `use the context of cluster "${cluster.name}", or update identity.server if the cluster really moved`,
    });
  }
  const uid = await reachCluster(kube);
  if (kubeSystemUID && uid !== kubeSystemUID) {
    throw new BootstrapError({
      subject: `${file}: identity.kubeSystemUID`,
      problem: `context "${kube.context}" reaches a cluster whose kube-system UID is ${uid}, but cluster "${cluster.name}" pins ${kubeSystemUID}; refusing to touch it`,
      fix: `use the context of cluster "${cluster.name}", or update identity.kubeSystemUID after checking the cluster was rebuilt`,
    });
  }
}
