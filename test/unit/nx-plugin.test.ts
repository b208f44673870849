// The Nx plugin infers one project per cluster folder, with the phase chain and caching rules.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodes, name } from '../../tasks/nx-plugin.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'nx-plugin-'));
  const valid = await readFile(path.join(workspaceRoot, 'clusters/apps/cluster.yaml'), 'utf8');
  const clusters = [
    ['edge', valid],
    ['broken', valid.replace(/^context:/m, 'contxt:')],
    ['x;touch pwned;y', valid],
    ['$(touch pwned)', valid],
  ] as const;
  for (const [cluster, text] of clusters) {
    await mkdir(path.join(root, 'clusters', cluster), { recursive: true });
    await writeFile(path.join(root, 'clusters', cluster, 'cluster.yaml'), text);
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

type Inferred = Array<[string, any]>;
const infer = async (files: string[]): Promise<Inferred> =>
  (await createNodes[1](files, {}, { nxJsonConfiguration: {}, workspaceRoot: root })) as Inferred;
const inferOne = async (file: string): Promise<any> => (await infer([file]))[0]![1];

describe('nx plugin', () => {
  it('is named and infers from every cluster folder', () => {
    expect(name).toBe('cluster-bootstrap');
    expect(createNodes[0]).toBe('clusters/*/cluster.yaml');
  });

  it('infers a project per cluster folder with the phase chain', async () => {
    const [[file]] = (await infer(['clusters/edge/cluster.yaml'])) as [[string, unknown]];
    expect(file).toBe('clusters/edge/cluster.yaml');
    const result = await inferOne('clusters/edge/cluster.yaml');
    const project = result.projects['clusters/edge'];
    expect(project.name).toBe('edge');
    const targets = project.targets;
    expect(Object.keys(targets)).toEqual(['prereqs', 'render-crds', 'crds', 'core', 'gitops-tree', 'verify', 'plan', 'drift', 'upgrade-check', 'migrate-storage', 'audit', 'kube-upgrade-check', 'rehearse', 'bootstrap']);
    expect(targets.crds.dependsOn).toEqual(['prereqs', 'render-crds']);
    expect(targets.core.dependsOn).toEqual(['crds']);
    expect(targets.verify.dependsOn).toEqual(['core', 'gitops-tree']);
    expect(targets.bootstrap.dependsOn).toEqual(['verify']);
    expect(targets['render-crds'].executor).toBe('./tasks/executor:phase');
    expect(targets['render-crds'].options).toEqual({ script: 'render-crds', cluster: 'edge' });
    for (const target of Object.values(targets) as any[]) expect(target.metadata.description.length).toBeGreaterThan(20);
  });

  it('caches the pure targets, and the bootstrap phases only under the live state of the cluster, which includes every input of the phases before', async () => {
    const result = await inferOne('clusters/edge/cluster.yaml');
    const targets = result.projects['clusters/edge'].targets;
    const cached = Object.entries(targets).filter(([, t]: [string, any]) => t.cache).map(([n]) => n);
    expect(cached).toEqual(['prereqs', 'render-crds', 'crds', 'core', 'gitops-tree', 'verify', 'audit']);
    const live = { runtime: 'NODE_COMPILE_CACHE=.nx/node-compile-cache node tasks/live-state.ts edge' };
    const chain = ['prereqs', 'crds', 'core', 'verify'];
    for (const [i, phase] of chain.entries()) {
      expect(targets[phase].inputs, phase).toContainEqual(live);
      for (const earlier of chain.slice(0, i)) for (const input of targets[earlier].inputs) expect(targets[phase].inputs, `${phase} has ${JSON.stringify(input)} of ${earlier}`).toContainEqual(input);
    }
    for (const input of targets['render-crds'].inputs) expect(targets.crds.inputs).toContainEqual(input === 'clusterValues' ? 'cluster' : input);
    expect(targets['gitops-tree'].outputs).toEqual(['{workspaceRoot}/dist/gitops/edge']);
    expect(targets['render-crds'].outputs).toEqual(['{workspaceRoot}/dist/crds/edge']);
    expect(targets['render-crds'].inputs).toEqual(['charts', 'clusterValues', 'engine', 'tools']);
  });

  it('infers a project for a broken cluster.yaml too: its own targets report the file and key, the others are untouched', async () => {
    const inferred = await infer(['clusters/edge/cluster.yaml', 'clusters/broken/cluster.yaml']);
    expect(inferred.map(([file]) => file)).toEqual(['clusters/edge/cluster.yaml', 'clusters/broken/cluster.yaml']);
  });

  it('refuses a folder name with shell metacharacters, naming the file, and builds no command from it', async () => {
    for (const folder of ['x;touch pwned;y', '$(touch pwned)']) {
      const file = `clusters/${folder}/cluster.yaml`;
      const error = (await infer([file, 'clusters/edge/cluster.yaml']).catch((e: unknown) => e)) as {
        errors: Array<[string, Error]>;
        partialResults: Array<[string, any]>;
      };
      expect(error.errors.map(([f, cause]) => `${f} → ${cause.message}`)).toEqual([
        `${file} → ${file}: the folder name "${folder}" is not a valid cluster name (^[a-z0-9][a-z0-9-]*$)\n` +
          '  fix: rename the folder to lowercase letters, digits and dashes, starting with a letter or digit',
      ]);
      const commands = error.partialResults.flatMap(([, r]) => Object.values(r.projects).flatMap((p: any) => Object.values(p.targets).map((t: any) => t.options?.command ?? '')));
      expect(commands.filter((c) => c.includes('pwned'))).toEqual([]);
    }
  });
});
