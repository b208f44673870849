// The GitOps tree a cluster reconciles, as cluster.yaml's gitops section names it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from './config.ts';
import { BootstrapError } from './errors.ts';
import { readFluxTree, type FluxTree } from './flux-tree.ts';
import { relative, workspaceRoot } from './workspace.ts';

/** The GitOps tree this cluster reconciles, read as Flux does (--gitops-root overrides its root). */
export async function readClusterTree(cluster: ClusterConfig, gitopsRoot?: string): Promise<FluxTree> {
  const gitops = cluster.gitops;
  if (!gitops) {
    throw new BootstrapError({
      subject: `${relative(cluster.file)}: gitops`,
      problem: 'is not set: there is no GitOps tree to rehearse',
      fix: 'add gitops.entry: the path the FluxInstance syncs (e.g. kubernetes/flux/cluster)',
    });
  }
  const root = path.resolve(workspaceRoot, gitopsRoot ?? gitops.root);
  if (!existsSync(path.join(root, gitops.entry))) {
    throw new BootstrapError({
      subject: `${relative(cluster.file)}: gitops.entry`,
      problem: `${gitops.entry} does not exist under ${root}`,
      fix: 'set gitops.entry to the path the FluxInstance syncs, relative to the repository root (gitops.root)',
    });
  }
  const secrets = cluster.prerequisites.secrets;
  return readFluxTree({
    root,
    folders: gitops.folders ?? [gitops.entry.split(/[\\/]/)[0]!],
    cluster: cluster.name,
    entry: gitops.entry,
    prerequisiteKeys: (namespace, name) => {
      const secret = secrets.find((s) => s.namespace === namespace && s.name === name);
      return secret && Object.keys(secret.data);
    },
  });
}

