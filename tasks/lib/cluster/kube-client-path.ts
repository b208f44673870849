// Where scripts/bundle-kube-client.ts writes the one-file bundle of the installed
// @kubernetes/client-node (read without loading the client itself).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workspaceRoot } from '../runtime/workspace.ts';

const packageJson = path.join(workspaceRoot, 'node_modules', '@kubernetes', 'client-node', 'package.json');

/**
 * The version is in the name, so a bumped client is never served an old bundle. 'client': the
 * whole package; 'config': its KubeConfig alone (kube-config.ts).
 */
export function kubeClientBundlePath(part: 'client' | 'config' = 'client'): string {
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  return path.join(workspaceRoot, 'node_modules', '.cache', 'cluster-bootstrap', `kube-${part}-${version}.mjs`);
}
