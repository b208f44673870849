// Releases left in pending-install / pending-upgrade / pending-rollback by an interrupted helm
// (a cancelled CI job, an OOM kill): every later sync fails with "another operation is in
// progress". Found before the sync, named with the exact recovery command, and recovered on
// request (--recover): roll back to the last deployed revision, or uninstall a first install.
import { BootstrapError } from '../runtime/errors.ts';
import type { DeployedRelease } from '../tools/helm.ts';
import { kubeconfigEnv, type ClusterTarget } from '../model/cluster-target.ts';
import { runTool } from '../tools/run-tool.ts';

export interface Recovery {
  release: DeployedRelease;
  /** The last revision with status deployed or superseded; undefined for an interrupted first install. */
  revision: number | undefined;
  /** The command that recovers it, as the user would type it. */
  command: string[];
}

export function isPending(release: DeployedRelease): boolean {
  return release.status.startsWith('pending-');
}

interface HistoryEntry {
  revision: number;
  status: string;
}

/** Pure: the recovery for a pending release given its history. */
export function recoveryFor(release: DeployedRelease, history: HistoryEntry[], context: string): Recovery {
  const good = history.filter((h) => h.status === 'deployed' || h.status === 'superseded').map((h) => h.revision);
  const revision = good.length ? Math.max(...good) : undefined;
  const where = ['--namespace', release.namespace, '--kube-context', context];
  const command = revision === undefined ? ['helm', 'uninstall', release.name, ...where] : ['helm', 'rollback', release.name, String(revision), ...where];
  return { release, revision, command };
}

export async function planRecovery(target: ClusterTarget, release: DeployedRelease): Promise<Recovery> {
  const stdout = await runTool({
    tool: 'helm',
    args: ['history', release.name, '--namespace', release.namespace, '--kube-context', target.context, '--output', 'json'],
    env: kubeconfigEnv(target),
    cluster: target.cluster.name,
    logName: `helm-history-${release.name}`,
    subject: `helm release ${release.namespace}/${release.name}`,
    action: 'helm history',
    fix: 'check the context and the release namespace',
  });
  return recoveryFor(release, JSON.parse(stdout) as HistoryEntry[], target.context);
}

export function pendingError(recoveries: Recovery[], clusterName: string): BootstrapError {
  return new BootstrapError({
    subject: recoveries.map((r) => `helm release ${r.release.namespace}/${r.release.name}`).join(', '),
    problem: `an earlier helm operation was interrupted: ${recoveries.map((r) => `${r.release.name} is ${r.release.status}`).join(', ')}; every sync would fail with "another operation is in progress". Nothing was synced`,
    fix: `if no other bootstrap is running, recover with ${recoveries.map((r) => r.command.join(' ')).join(' && ')}, or rerun with --recover (nx run ${clusterName}:core --recover)`,
  });
}

export async function recover(target: ClusterTarget, recovery: Recovery): Promise<void> {
  const [, ...args] = recovery.command;
  await runTool({
    tool: 'helm',
    args: [...args, '--wait'],
    env: kubeconfigEnv(target),
    cluster: target.cluster.name,
    logName: `helm-recover-${recovery.release.name}`,
    subject: `helm release ${recovery.release.namespace}/${recovery.release.name}`,
    action: `recovery (${recovery.command.join(' ')})`,
    fix: 'inspect it with helm history and helm status, then recover by hand',
    write: true,
  });
}
