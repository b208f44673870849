// Which cluster helm and helmfile talk to: the cluster's config (kubeconfig, registry mirror) and
// the kube context in use, already checked by the identity guard.
import type { ClusterConfig } from './config.ts';

export interface ClusterTarget {
  cluster: ClusterConfig;
  context: string;
}

/** helm and helmfile read the kubeconfig from $KUBECONFIG; the user's own is never touched. */
export function kubeconfigEnv({ cluster }: ClusterTarget): NodeJS.ProcessEnv {
  return cluster.kubeconfigPath ? { ...process.env, KUBECONFIG: cluster.kubeconfigPath } : { ...process.env };
}
