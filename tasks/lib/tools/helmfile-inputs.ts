// What helmfile reads for one cluster besides the engine: every file of helmfile.d, the content
// of the cluster's values.yaml (not its path: two clusters with the same values render alike),
// the files of the GitOps tree a state file reads through {{ .Values.gitopsRoot }}/<path> (a
// release whose values are the tree's own), the registry mirror and the pinned tool versions.
// The render's manifest records this hash (bundle-files.ts), and the release list below is kept by it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';
import { filesUnder, inputsHash } from '../runtime/input-hash.ts';
import { keptByKey } from '../runtime/kept.ts';
import { paths, relative, workspaceRoot } from '../runtime/workspace.ts';

/** The GitOps tree's root, absolute: what helmfile gets as .Values.gitopsRoot. */
export const gitopsRootOf = (cluster: ClusterConfig): string => path.resolve(workspaceRoot, cluster.gitops?.root ?? '.');

/** `{{ .Values.gitopsRoot }}/<path>` in a state file: a file of the tree helmfile reads. */
const TREE_FILE = /\{\{-?\s*\.Values\.gitopsRoot\s*-?\}\}\/([^\s'"`{}]+)/g;

async function treePathsIn(stateFiles: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const file of stateFiles) for (const [, p] of (await readFile(file, 'utf8')).matchAll(TREE_FILE)) found.add(p!);
  return [...found].sort();
}

/** Every tree path the state files under helmfileDir read (nx.json's charts input must list each). */
export const treePathsRead = async (helmfileDir = paths.helmfileDir): Promise<string[]> => treePathsIn(await filesUnder(helmfileDir));

/**
 * `helmfileDir`: another helmfile.d (a copy, as tests and pr-check use), read with its own clusters/.
 * `readers`: the state files whose reads of the tree count (00-crds reads none, so a tree edit
 * leaves the CRD bundle fresh; 01-core reads the FluxInstance's values). A file that is missing
 * counts as empty: helmfile then fails, naming it.
 */
export async function helmfileInputsHash(cluster: ClusterConfig, helmfileDir = paths.helmfileDir, readers: string[] = []): Promise<string> {
  const values = await readFile(path.join(helmfileDir, '..', 'clusters', cluster.name, 'values.yaml'), 'utf8').catch(() => '');
  const treeFiles: Record<string, string> = {};
  for (const p of await treePathsIn(readers)) treeFiles[`tree:${p}`] = await readFile(path.join(gitopsRootOf(cluster), p), 'utf8').catch(() => '');
  return inputsHash([...(await filesUnder(helmfileDir)), paths.toolsVersions], {
    'values.yaml': values,
    ...treeFiles,
    registryMirror: JSON.stringify(cluster.registryMirror ?? null),
  });
}

/**
 * `compute` once per state file, cluster and helmfile inputs: `helmfile list` takes about a
 * second of CPU (it executes every template), and verify, render-crds and the pin check ask it
 * on every run. Kept in dist/.helmfile-list (git-ignored); a changed input is another key: the
 * files of the state file's own helmfile.d, the cluster's values beside it, the tree files the
 * state file reads, mirror, tool pins.
 */
export async function keptByHelmfileInputs<T>(cluster: ClusterConfig, stateFile: string, compute: () => Promise<T>, what: 'list' | 'values' = 'list'): Promise<T> {
  // `what` keeps the releases and their values apart under one key of inputs.
  const kind = what === 'list' ? '' : `${what}\0`;
  return keptByKey('.helmfile-list', `${kind}${cluster.name}\0${relative(stateFile)}\0${await helmfileInputsHash(cluster, path.dirname(stateFile), [stateFile])}`, compute);
}
