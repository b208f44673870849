// What helmfile reads for one cluster besides the engine: every file of helmfile.d, the content
// of the cluster's values.yaml (not its path: two clusters with the same values render alike),
// the registry mirror and the pinned tool versions. The render's manifest records this hash
// (bundle-files.ts), and the release list below is kept by it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';
import { filesUnder, inputsHash } from '../runtime/input-hash.ts';
import { keptByKey } from '../runtime/kept.ts';
import { paths, relative } from '../runtime/workspace.ts';

/** `helmfileDir`: another helmfile.d (a copy, as tests and pr-check use), read with its own clusters/. */
export async function helmfileInputsHash(cluster: ClusterConfig, helmfileDir = paths.helmfileDir): Promise<string> {
  const values = await readFile(path.join(helmfileDir, '..', 'clusters', cluster.name, 'values.yaml'), 'utf8').catch(() => '');
  return inputsHash([...(await filesUnder(helmfileDir)), paths.toolsVersions], {
    'values.yaml': values,
    registryMirror: JSON.stringify(cluster.registryMirror ?? null),
  });
}

/**
 * `compute` once per state file, cluster and helmfile inputs: `helmfile list` takes about a
 * second of CPU (it executes every template), and verify, render-crds and the pin check ask it
 * on every run. Kept in dist/.helmfile-list (git-ignored); a changed input is another key: the
 * files of the state file's own helmfile.d, the cluster's values beside it, mirror, tool pins.
 */
export async function keptByHelmfileInputs<T>(cluster: ClusterConfig, stateFile: string, compute: () => Promise<T>): Promise<T> {
  return keptByKey('.helmfile-list', `${cluster.name}\0${relative(stateFile)}\0${await helmfileInputsHash(cluster, path.dirname(stateFile))}`, compute);
}
