// Clusters whose 00-crds inputs are identical render once: run together, one renders while the
// other waits for its lock, then copies the bundle byte for byte under its own manifest.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../tasks/lib/bundle/bundle-files.ts';
import { bundleDir, paths } from '../../tasks/lib/runtime/workspace.ts';
import { run } from '../helpers/sandbox.ts';

const twin = 'e2e-twin';

describe('a render shared between clusters', () => {
  it('a cluster with the values of apps reuses its render; infra, with other values, renders its own', async () => {
    const dir = path.join(paths.clusters, twin);
    const clusterYaml = (await readFile(path.join(paths.clusters, 'apps', 'cluster.yaml'), 'utf8')).replace(/^  environment: apps$/m, `  environment: ${twin}`);
    expect(clusterYaml).toContain(`environment: ${twin}`);
    await mkdir(path.join(dir, 'prerequisites'), { recursive: true });
    await writeFile(path.join(dir, 'cluster.yaml'), clusterYaml);
    await copyFile(path.join(paths.clusters, 'apps', 'values.yaml'), path.join(dir, 'values.yaml'));
    try {
      const result = await run`nx run-many -t render-crds -p apps,${twin},infra --skip-nx-cache --outputStyle=stream`;
      const output = result.stdout + result.stderr;
      expect(result.exitCode, output).toBe(0);
      // Two renders (infra, and one of the twins), one reuse.
      expect(output.match(/rendering helmfile\.d\/00-crds/g)).toHaveLength(2);
      expect(output).toMatch(/\[(apps|e2e-twin)\] ✔ reused the render of (apps|e2e-twin): the same helmfile\.d, values, registry mirror and tool versions/);
      expect(output).not.toMatch(/\[infra\] ✔ reused/);

      expect(await readFile(path.join(bundleDir(twin), 'crds.json'), 'utf8')).toBe(await readFile(path.join(bundleDir('apps'), 'crds.json'), 'utf8'));
      const [own, shared] = await Promise.all([loadBundle('apps'), loadBundle(twin)]);
      expect(shared.manifest).toMatchObject({ cluster: twin, environment: twin, count: own.manifest.count });
      expect(own.manifest).toMatchObject({ cluster: 'apps', environment: 'apps' });
      // The inputs hash leaves the cluster's name out: it is the key the twins share, and infra's differs.
      expect(shared.manifest.inputsSha256).toBe(own.manifest.inputsSha256);
      expect((await loadBundle('infra')).manifest.inputsSha256).not.toBe(own.manifest.inputsSha256);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(bundleDir(twin), { recursive: true, force: true });
    }
  });
});
