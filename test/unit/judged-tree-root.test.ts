// One answer to "which tree does this run judge", for audit, rehearse (both its halves) and
// kube-upgrade-check: --gitops-root, else BOOTSTRAP_GITOPS_ROOT, else cluster.yaml's root.
import { describe, expect, it } from 'vitest';
import { judgedTreeRoot } from '../../tasks/lib/gitops/cluster-tree.ts';

describe('the tree a run judges', () => {
  it('is the flag, else the variable, else cluster.yaml (undefined)', () => {
    expect(judgedTreeRoot('rehearse', 'infra', '/flag', { BOOTSTRAP_GITOPS_ROOT: '/env' })).toBe('/flag');
    expect(judgedTreeRoot('rehearse', 'infra', undefined, { BOOTSTRAP_GITOPS_ROOT: '/env' })).toBe('/env');
    expect(judgedTreeRoot('rehearse', 'infra', undefined, {})).toBeUndefined();
  });

  it('through Nx, refuses a flag its cache key cannot hold, naming the task and the way that works', () => {
    expect(() => judgedTreeRoot('rehearse', 'infra', '/flag', { NX_TASK_TARGET_PROJECT: 'infra' })).toThrow(
      'option --gitops-root: through Nx, the tree at /flag would not be part of the cache key: a changed tree could replay an old verdict\n' +
        '  fix: run BOOTSTRAP_GITOPS_ROOT=/flag nx run infra:rehearse (its content is hashed), or node tasks/rehearse.ts --cluster infra --gitops-root /flag (never cached)',
    );
    expect(judgedTreeRoot('audit', 'infra', '/same', { NX_TASK_TARGET_PROJECT: 'infra', BOOTSTRAP_GITOPS_ROOT: '/same' })).toBe('/same');
  });
});
