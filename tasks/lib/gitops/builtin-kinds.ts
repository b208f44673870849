// The kinds a Kubernetes minor version serves without any CRD ("apiVersion Kind"), generated
// from a real API server by scripts/generate-builtin-kinds.ts into builtin-kinds/<version>.json.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { relative } from '../runtime/workspace.ts';

export async function builtinKinds(cluster: ClusterConfig): Promise<Set<string>> {
  const version = cluster.kubernetesVersion;
  const file = path.join(import.meta.dirname, 'builtin-kinds', `${version}.json`);
  if (!existsSync(file)) {
    throw new BootstrapError({
      subject: `${relative(cluster.file)}: kubernetesVersion`,
      problem: `no built-in kind list for Kubernetes ${version}`,
      fix: `generate it against a ${version} API server: node scripts/generate-builtin-kinds.ts <context>`,
    });
  }
  return new Set((JSON.parse(await readFile(file, 'utf8')) as { kinds: string[] }).kinds);
}
