// Secret values for prerequisites come from environment variables or 1Password references,
// never from git. Values live only in memory: never in logs, errors, files or the Nx cache.
import { which } from 'zx';
import type { V1Secret } from '@kubernetes/client-node';
import type { SecretSpec } from '../model/config.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { toolShell } from '../tools/run-tool.ts';

export type SecretReader = (reference: string) => Promise<string>;

/** Reads an op:// reference with the 1Password CLI, if it is installed and signed in. */
export const readWith1Password: SecretReader = async (reference) => {
  if (!(await which('op', { nothrow: true }))) {
    throw new BootstrapError({
      subject: `secret reference ${reference}`,
      problem: 'the 1Password CLI (op) is not installed',
      fix: 'install the 1Password CLI and sign in, or use { env: NAME } for this key',
    });
  }
  const result = await toolShell('op')`op read --no-newline ${reference}`;
  if (result.exitCode !== 0) {
    throw new BootstrapError({
      subject: `secret reference ${reference}`,
      problem: `op read failed (exit ${result.exitCode})`,
      // op's stderr names the vault/item problem and never contains the value.
      fix: `${result.stderr.trim().split('\n')[0] ?? ''} — check the reference and run \`op signin\``,
    });
  }
  return result.stdout;
};

/** The secret with `value` in every key: what a rehearsal writes (its sources are never read). */
export function placeholderSecret(spec: SecretSpec, value: string): V1Secret {
  const data = Object.fromEntries(Object.keys(spec.data).map((key) => [key, Buffer.from(value, 'utf8').toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: spec.name, namespace: spec.namespace }, type: spec.type, data };
}

export async function buildSecret(
  spec: SecretSpec,
  clusterFile: string,
  env: NodeJS.ProcessEnv = process.env,
  readReference: SecretReader = readWith1Password,
): Promise<V1Secret> {
  const data: Record<string, string> = {};
  for (const [key, source] of Object.entries(spec.data)) {
    let value: string | undefined;
    if ('env' in source) {
      value = env[source.env];
      if (value === undefined || value === '') {
        throw new BootstrapError({
          subject: `${clusterFile}: prerequisites.secrets ${spec.namespace}/${spec.name} key "${key}"`,
          problem: `environment variable ${source.env} is not set`,
          fix: `export ${source.env}=… before running (its value is never printed or stored)`,
        });
      }
    } else {
      value = await readReference(source.op);
    }
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: spec.name, namespace: spec.namespace },
    type: spec.type,
    data,
  };
}
