// helmfile list is kept by what helmfile reads: the same inputs ask once, a changed file of the
// state file's helmfile.d, a changed values.yaml or another mirror ask again.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';
import { readFile } from 'node:fs/promises';
import { helmfileInputsHash, keptByHelmfileInputs, treePathsRead } from '../../tasks/lib/tools/helmfile-inputs.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const root = await mkdtemp(path.join(os.tmpdir(), 'helmfile-inputs-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('keptByHelmfileInputs', () => {
  it('computes once per set of inputs, and again after any of them changes', async () => {
    const stateFile = path.join(root, 'helmfile.d', '01-core.yaml.gotmpl');
    const values = path.join(root, 'clusters', 'kept', 'values.yaml');
    await mkdir(path.dirname(stateFile), { recursive: true });
    await mkdir(path.dirname(values), { recursive: true });
    await writeFile(stateFile, `releases: [] # ${root}\n`);
    await writeFile(values, 'a: 1\n');
    const cluster = { name: 'kept', registryMirror: undefined } as unknown as ClusterConfig;
    let calls = 0;
    const list = (c: ClusterConfig = cluster) => keptByHelmfileInputs(c, stateFile, async () => [`call ${++calls}`]);

    expect(await list()).toEqual(['call 1']);
    expect(await list()).toEqual(['call 1']);
    await writeFile(path.join(root, 'helmfile.d', 'bases.yaml'), 'environments: {}\n');
    expect(await list()).toEqual(['call 2']);
    await writeFile(values, 'a: 2\n');
    expect(await list()).toEqual(['call 3']);
    expect(await list({ ...cluster, registryMirror: { host: '127.0.0.1:15000', plainHttp: true } } as ClusterConfig)).toEqual(['call 4']);
    expect(await list()).toEqual(['call 3']);
  });
});

describe('tree files a state file reads ({{ .Values.gitopsRoot }}/<path>)', () => {
  it('are inputs of the state file that reads them, by content, under the cluster\'s gitops.root; not of the others', async () => {
    const dir = path.join(root, 'tree-reads');
    const helmfileDir = path.join(dir, 'helmfile.d');
    await mkdir(path.join(dir, 'tree', 'app'), { recursive: true });
    await mkdir(helmfileDir, { recursive: true });
    const core = path.join(helmfileDir, '01-core.yaml.gotmpl');
    await writeFile(core, 'releases:\n  - values:\n      - {{ .Values.gitopsRoot }}/app/values.yaml\n');
    await writeFile(path.join(helmfileDir, '00-crds.yaml.gotmpl'), 'releases: []\n');
    const values = path.join(dir, 'tree', 'app', 'values.yaml');
    await writeFile(values, 'sync: {kind: GitRepository}\n');
    const cluster = { name: 'tree-reads', registryMirror: undefined, gitops: { root: path.join(dir, 'tree') } } as unknown as ClusterConfig;
    const [coreBefore, allBefore] = await Promise.all([helmfileInputsHash(cluster, helmfileDir, [core]), helmfileInputsHash(cluster, helmfileDir)]);
    await writeFile(values, 'sync: {kind: OCIRepository}\n');
    expect(await helmfileInputsHash(cluster, helmfileDir, [core])).not.toBe(coreBefore);
    expect(await helmfileInputsHash(cluster, helmfileDir)).toBe(allBefore);
    expect(await treePathsRead(helmfileDir)).toEqual(['app/values.yaml']);
  });

  it('nx.json lists every tree file helmfile.d reads in the charts input, so Nx reruns core when it changes', async () => {
    const nx = JSON.parse(await readFile(path.join(workspaceRoot, 'nx.json'), 'utf8')) as { namedInputs: { charts: string[] } };
    const read = await treePathsRead();
    expect(read.length).toBeGreaterThan(0);
    for (const p of read) expect(nx.namedInputs.charts).toContain(`{workspaceRoot}/${p}`);
  });
});
