import { describe, expect, it } from 'vitest';
import { failedRelease, helmfileArgs } from '../../tasks/lib/tools/helmfile.ts';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const cluster = {
  name: 'infra',
  helmfile: { environment: 'infra' },
  registryMirror: { host: '127.0.0.1:15000', plainHttp: true },
} as ClusterConfig;

describe('helmfile wrapper', () => {
  it('selects the environment, the guarded context, the tree (absolute) and the mirror', () => {
    expect(helmfileArgs({ cluster, context: 'kwok-infra' }, '/w/helmfile.d/00-crds.yaml.gotmpl')).toEqual([
      '--no-color',
      '--file', '/w/helmfile.d/00-crds.yaml.gotmpl',
      '--environment', 'infra',
      '--kube-context', 'kwok-infra',
      '--state-values-set', `gitopsRoot=${workspaceRoot}`,
      '--state-values-set', 'registryMirror=127.0.0.1:15000/',
      '--state-values-set', 'registryPlainHttp=true',
    ]);
  });

  it('finds the failed release in helmfile output', () => {
    expect(failedRelease(['UPDATED RELEASES:', 'in ./01-core.yaml.gotmpl: failed processing release coredns: command "helm" exited with non-zero status'])).toBe('coredns');
    expect(failedRelease(['nothing useful'])).toBeUndefined();
  });
});
