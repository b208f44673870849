// Shared helpers for tests that talk to the sandbox.
import path from 'node:path';
import { $ } from 'zx';
import { connect, type Kube } from '../../tasks/lib/cluster/kube.ts';
import { paths, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

export const kubeconfig = path.join(paths.sandbox, 'kubeconfig');
export const registry = '127.0.0.1:15000';

export function kubeFor(cluster: string): Kube {
  return connect({ kubeconfigPath: kubeconfig, context: `kwok-${cluster}` });
}

/** The environment tasks, helm and helmfile run with in tests: built tools first, sandbox kubeconfig. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${path.join(workspaceRoot, 'node_modules', '.bin')}${path.delimiter}${paths.toolsBin}${path.delimiter}${process.env['PATH']}`,
    KUBECONFIG: kubeconfig,
    NX_DAEMON: 'false',
    INFRA_CLOUDFLARE_API_TOKEN: 'e2e-token-infra',
    APPS_EXTERNAL_SECRETS_TOKEN: 'e2e-token-apps',
    ...extra,
  };
}

/** Runs commands in `cwd` (the workspace, or a copy of it) without throwing; tests assert on exit code and output. */
export const shellIn = (cwd: string, env: NodeJS.ProcessEnv = {}) => $({ quiet: true, nothrow: true, cwd, env: testEnv(env) });
export const run = shellIn(workspaceRoot);
export const runWith = (env: NodeJS.ProcessEnv) => shellIn(workspaceRoot, env);
