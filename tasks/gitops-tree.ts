// gitops-tree (cached): the cluster's GitOps tree built as Flux builds it, for verify's dry-run of
// the first layer. A pure function of the tree, cluster.yaml and the tool versions: Nx caches it,
// so a rerun of verify does not build the tree again (about 2 s).
import { writeBuiltTree } from './lib/gitops/cluster-tree.ts';
import { phaseTarget } from './lib/runner/task.ts';
import { gitopsTreeFile, relative } from './lib/runtime/workspace.ts';

export const target = phaseTarget(
  'gitops-tree',
  async ({ cluster, log }) => {
    if (!cluster.gitops) {
      log.info('cluster.yaml sets no gitops: nothing to build');
      return;
    }
    const tree = await writeBuiltTree(cluster);
    const objects = tree.kustomizations.reduce((sum, k) => sum + k.objects.length, 0);
    log.success(`${relative(gitopsTreeFile(cluster.name))}: ${tree.kustomizations.length} Kustomizations, ${objects} objects`);
  },
);

if (import.meta.main) await target.cli();
