// Where things live in the workspace. Everything is resolved from this file's location,
// so tasks behave the same whatever directory Nx or a user starts them from.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const paths = {
  clusters: path.join(workspaceRoot, 'clusters'),
  lib: path.join(workspaceRoot, 'tasks', 'lib'),
  helmfileDir: path.join(workspaceRoot, 'helmfile.d'),
  crdsHelmfile: path.join(workspaceRoot, 'helmfile.d', '00-crds.yaml.gotmpl'),
  coreHelmfile: path.join(workspaceRoot, 'helmfile.d', '01-core.yaml.gotmpl'),
  toolsBin: path.join(workspaceRoot, '.tools', 'bin'),
  /** Flux's CRDs, for the rehearsal (scripts/build-tools.sh flux-crds). */
  fluxCrds: path.join(workspaceRoot, '.tools', 'flux-crds'),
  toolsVersions: path.join(workspaceRoot, 'scripts', 'tools', 'versions.env'),
  sandbox: path.join(workspaceRoot, '.sandbox'),
  dist: path.join(workspaceRoot, 'dist'),
  /** Full output of failed tool runs (git-ignored). */
  logs: path.join(workspaceRoot, '.logs'),
};

/** The environment variable that points the audit at a GitOps tree outside the workspace (through Nx too). */
export const GITOPS_ROOT_ENV = 'BOOTSTRAP_GITOPS_ROOT';

export function clusterDir(clusterName: string): string {
  return path.join(paths.clusters, clusterName);
}

/** The cached render's output folder for one cluster (an Nx target output). */
/** Where the gitops-tree target writes the cluster's GitOps tree, built as Flux builds it. */
export function gitopsTreeFile(clusterName: string): string {
  return path.join(paths.dist, 'gitops', clusterName, 'tree.json');
}

export function bundleDir(clusterName: string): string {
  return path.join(paths.dist, 'crds', clusterName);
}

/** A path relative to the workspace root, for messages. */
export function relative(file: string): string {
  return path.relative(workspaceRoot, file) || '.';
}
