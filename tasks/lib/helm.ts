// The two read-only helm calls core needs to tell an up-to-date release from one to sync.
import { $ } from 'zx';
import { BootstrapError } from './errors.ts';
import { helmEnv, type HelmTarget } from './helmfile.ts';

export interface DeployedRelease {
  name: string;
  namespace: string;
  status: string;
  /** "<chart>-<version>", as helm list prints it. */
  chart: string;
}

export async function deployedReleases({ cluster, context }: HelmTarget): Promise<DeployedRelease[]> {
  const output = await $({ quiet: true, nothrow: true, env: helmEnv({ cluster, context }) })`helm list --all-namespaces --deployed --failed --pending --output json --kube-context ${context}`;
  if (output.exitCode !== 0) {
    throw new BootstrapError({
      subject: `helm list (context ${context})`,
      problem: output.stderr.trim().split('\n').at(-1) ?? `exit ${output.exitCode}`,
      fix: 'check the kubeconfig and context in cluster.yaml',
    });
  }
  return (JSON.parse(output.stdout || '[]') as DeployedRelease[]).map(({ name, namespace, status, chart }) => ({ name, namespace, status, chart }));
}

/** The manifest helm deployed for a release that helm list reported. A failure is an error, never "empty". */
export async function deployedManifest({ cluster, context }: HelmTarget, release: { name: string; namespace: string }): Promise<string> {
  const output = await $({ quiet: true, nothrow: true, env: helmEnv({ cluster, context }) })`helm get manifest ${release.name} --namespace ${release.namespace} --kube-context ${context}`;
  if (output.exitCode !== 0) {
    throw new BootstrapError({
      subject: `helm release ${release.namespace}/${release.name} (context ${context})`,
      problem: `helm get manifest failed: ${output.stderr.trim().split('\n').at(-1) ?? `exit ${output.exitCode}`}`,
      fix: 'check the release with helm status; core needs its deployed manifest to know what a sync would delete',
    });
  }
  return output.stdout;
}
