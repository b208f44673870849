// helmfile list is kept by what helmfile reads: the same inputs ask once, a changed file of the
// state file's helmfile.d, a changed values.yaml or another mirror ask again.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';
import { keptByHelmfileInputs } from '../../tasks/lib/tools/helmfile-inputs.ts';

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
