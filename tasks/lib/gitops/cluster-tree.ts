// The GitOps tree a cluster reconciles, as cluster.yaml's gitops section names it: built with
// Flux's library (a few seconds), or read back from the last build of the same inputs (the
// gitops-tree target's output, or an earlier audit's or rehearsal's).
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { readFluxTree, type FluxTree } from './flux-tree.ts';
import { filesUnder, inputsHash } from '../runtime/input-hash.ts';
import { GITOPS_ROOT_ENV, gitopsTreeFile, paths, relative, workspaceRoot } from '../runtime/workspace.ts';
import { writeWhole } from '../runtime/write-whole.ts';

/**
 * The root of the tree a run judges (audit, rehearse, kube-upgrade-check: one answer for all, so
 * the audit's half of a rehearsal and Flux's half read the same tree): --gitops-root, else
 * BOOTSTRAP_GITOPS_ROOT, else undefined (cluster.yaml's gitops.root). Through Nx only the variable:
 * Nx's cache key holds its content (gitops-digest.ts) but cannot read a flag's folder.
 */
export function judgedTreeRoot(task: string, clusterName: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[GITOPS_ROOT_ENV];
  if (flag && env['NX_TASK_TARGET_PROJECT'] && flag !== fromEnv) {
    throw new BootstrapError({
      subject: 'option --gitops-root',
      problem: `through Nx, the tree at ${flag} would not be part of the cache key: a changed tree could replay an old verdict`,
      fix: `run ${GITOPS_ROOT_ENV}=${flag} nx run ${clusterName}:${task} (its content is hashed), or node tasks/${task}.ts --cluster ${clusterName} --gitops-root ${flag} (never cached)`,
    });
  }
  return flag ?? fromEnv;
}

/**
 * The cluster with gitops.root set to the tree being judged, so that helmfile's .Values.gitopsRoot
 * reads it too: a release whose values are the tree's own file (parity by construction) is judged
 * with the judged tree's file, as a bootstrap from that checkout would install it.
 */
export function withTreeRoot(cluster: ClusterConfig, gitopsRoot: string | undefined): ClusterConfig {
  return gitopsRoot && cluster.gitops ? { ...cluster, gitops: { ...cluster.gitops, root: gitopsRoot } } : cluster;
}

/** The GitOps tree this cluster reconciles, read as Flux does (judgedTreeRoot overrides its root). */
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
    otherSources: Object.fromEntries(Object.entries(gitops.sources).map(([source, folder]) => [source, path.resolve(workspaceRoot, folder)])),
    prerequisiteKeys: (namespace, name) => {
      const secret = secrets.find((s) => s.namespace === namespace && s.name === name);
      return secret && Object.keys(secret.data);
    },
  });
}


/**
 * What a build of the tree reads: every file under the folders Flux builds from and under the
 * checkouts gitops.sources maps, cluster.yaml (entry, folders, prerequisite secret keys), the
 * pinned tool versions and our build helper's sources.
 */
async function treeInputsHash(cluster: ClusterConfig, gitopsRoot?: string): Promise<string> {
  const gitops = cluster.gitops!;
  const root = path.resolve(workspaceRoot, gitopsRoot ?? gitops.root);
  const folders = [
    ...(gitops.folders ?? [gitops.entry.split(/[\\/]/)[0]!]).map((folder) => path.join(root, folder)),
    ...Object.values(gitops.sources).map((folder) => path.resolve(workspaceRoot, folder)),
  ];
  const helper = path.join(workspaceRoot, 'scripts/tools/flux-build');
  const helperFiles = (await readdir(helper)).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').map((f) => path.join(helper, f));
  const files = (await Promise.all(folders.map(filesUnder))).flat();
  return inputsHash([...files, cluster.file, paths.toolsVersions, ...helperFiles], { root });
}

/** Where a built tree is kept: the gitops-tree target's file for the workspace's tree, one per root for another. */
function treeFile(clusterName: string, gitopsRoot?: string): string {
  if (!gitopsRoot) return gitopsTreeFile(clusterName);
  const root = createHash('sha256').update(path.resolve(workspaceRoot, gitopsRoot)).digest('hex').slice(0, 12);
  return path.join(path.dirname(gitopsTreeFile(clusterName)), `tree-${root}.json`);
}

/** gitops-tree: builds the tree and writes it with the hash of its inputs. */
export async function writeBuiltTree(cluster: ClusterConfig): Promise<FluxTree> {
  const [tree, inputsSha256] = await Promise.all([readClusterTree(cluster), treeInputsHash(cluster)]);
  await writeWhole(gitopsTreeFile(cluster.name), JSON.stringify({ inputsSha256, tree }));
  return tree;
}

/**
 * The tree as last built from these very inputs (by the gitops-tree target, or by an earlier audit
 * or rehearsal of the same root); otherwise built here and kept for the next run. Building a tree
 * of real size takes seconds (the generated tree: 7.6 s of a 14 s audit); reading it back, a moment.
 */
export async function builtTree(cluster: ClusterConfig, gitopsRoot?: string): Promise<FluxTree> {
  const file = treeFile(cluster.name, gitopsRoot);
  const [saved, inputsSha256] = await Promise.all([
    readFile(file, 'utf8').then((t) => JSON.parse(t) as { inputsSha256: string; tree: FluxTree }).catch(() => undefined),
    treeInputsHash(cluster, gitopsRoot),
  ]);
  if (saved?.inputsSha256 === inputsSha256) return saved.tree;
  const tree = await readClusterTree(cluster, gitopsRoot);
  await writeWhole(file, JSON.stringify({ inputsSha256, tree }));
  if (gitopsRoot) await keepNewestTrees(path.dirname(file), KEPT_TREES);
  return tree;
}

/** Trees of other roots kept per cluster (tests and benchmarks judge many throwaway copies). */
const KEPT_TREES = 8;

async function keepNewestTrees(dir: string, keep: number): Promise<void> {
  const kept = (await readdir(dir)).filter((f) => /^tree-[0-9a-f]+\.json$/.test(f));
  const dated = await Promise.all(kept.map(async (f) => ({ file: path.join(dir, f), at: (await stat(path.join(dir, f)).catch(() => undefined))?.mtimeMs ?? 0 })));
  const old = dated.sort((a, b) => b.at - a.at).slice(keep);
  await Promise.all(old.map(({ file }) => rm(file, { force: true })));
}
