// The two read-only helm calls core needs to tell an up-to-date release from one to sync.
import { kubeconfigEnv, type ClusterTarget } from '../model/cluster-target.ts';
import { runTool } from './run-tool.ts';

export interface DeployedRelease {
  name: string;
  namespace: string;
  status: string;
  /** "<chart>-<version>", as helm list prints it. */
  chart: string;
  /** helm list prints it as a string ("3"). */
  revision: string;
}

export async function deployedReleases({ cluster, context }: ClusterTarget): Promise<DeployedRelease[]> {
  const stdout = await runTool({
    tool: 'helm',
    args: ['list', '--all-namespaces', '--deployed', '--failed', '--pending', '--output', 'json', '--kube-context', context],
    env: kubeconfigEnv({ cluster, context }),
    cluster: cluster.name,
    logName: 'helm-list',
    subject: `helm list (context ${context})`,
    fix: 'check the kubeconfig and context in cluster.yaml',
  });
  return (JSON.parse(stdout || '[]') as DeployedRelease[]).map(({ name, namespace, status, chart, revision }) => ({ name, namespace, status, chart, revision: String(revision) }));
}

/** The manifest helm deployed for a release that helm list reported. A failure is an error, never "empty". */
export async function deployedManifest({ cluster, context }: ClusterTarget, release: { name: string; namespace: string }): Promise<string> {
  return runTool({
    tool: 'helm',
    args: ['get', 'manifest', release.name, '--namespace', release.namespace, '--kube-context', context],
    env: kubeconfigEnv({ cluster, context }),
    cluster: cluster.name,
    logName: `helm-get-manifest-${release.name}`,
    subject: `helm release ${release.namespace}/${release.name} (context ${context})`,
    action: 'helm get manifest',
    fix: 'check the release with helm status; core needs its deployed manifest to know what a sync would delete',
  });
}
