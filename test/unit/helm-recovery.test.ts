import { describe, expect, it } from 'vitest';
import { isPending, recoveryFor } from '../../tasks/lib/core/helm-recovery.ts';
import { syncFailureFix } from '../../tasks/lib/tools/helmfile.ts';

const spegel = { name: 'spegel', namespace: 'spegel', status: 'pending-upgrade', chart: 'spegel-0.7.4', revision: '1' };

describe('helm recovery', () => {
  it('finds releases an interrupted helm left pending', () => {
    expect(['pending-install', 'pending-upgrade', 'pending-rollback', 'deployed', 'failed'].map((status) => isPending({ ...spegel, status }))).toEqual([true, true, true, false, false]);
  });

  it('rolls back to the last deployed revision', () => {
    const history = [
      { revision: 1, status: 'superseded' },
      { revision: 2, status: 'deployed' },
      { revision: 3, status: 'pending-upgrade' },
    ];
    expect(recoveryFor(spegel, history, 'kwok-apps').command.join(' ')).toBe('helm rollback spegel 2 --namespace spegel --kube-context kwok-apps');
  });

  it('uninstalls an interrupted first install, which has nothing to roll back to', () => {
    const recovery = recoveryFor({ ...spegel, status: 'pending-install' }, [{ revision: 1, status: 'pending-install' }], 'kwok-apps');
    expect(recovery.revision).toBeUndefined();
    expect(recovery.command.join(' ')).toBe('helm uninstall spegel --namespace spegel --kube-context kwok-apps');
  });
});

describe('syncFailureFix', () => {
  it('matches the hint to what helm said', () => {
    expect(syncFailureFix('Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress', 'apps')).toContain('rerun with --recover');
    expect(syncFailureFix('Error: UPGRADE FAILED: release: already exists', 'apps')).toContain('another bootstrap of this cluster may be running');
    expect(syncFailureFix('Error: resource Deployment/kube-system/coredns not ready. status: InProgress: context deadline exceeded', 'apps')).toContain('did not become ready in time');
    expect(syncFailureFix('Error: values don\'t meet the specifications of the schema', 'apps')).toBe(
      "fix the release's values or chart version, then rerun: nx run apps:core --exclude-task-dependencies",
    );
  });
});
