// Clusters whose 00-crds inputs are identical render once: run together, one renders while the
// other waits for its lock, then copies the bundle byte for byte under its own manifest.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../tasks/lib/bundle/bundle-files.ts';
import { bundleDir, paths, relative } from '../../tasks/lib/runtime/workspace.ts';
import { withWorkspaceCopy } from '../helpers/workspace-copy.ts';

const twin = 'e2e-twin';

describe('a render shared between clusters', () => {
  it('a cluster with the values of apps reuses its render; infra, with other values, renders its own', async () => {
    // The twin is a folder of a workspace copy: a cluster added to the checkout would change its Nx graph.
    await withWorkspaceCopy(async (copy) => {
      const clusterYaml = (await readFile(path.join(paths.clusters, 'apps', 'cluster.yaml'), 'utf8')).replace(/^  environment: apps$/m, `  environment: ${twin}`);
      expect(clusterYaml).toContain(`environment: ${twin}`);
      await mkdir(copy.file(`clusters/${twin}/prerequisites`), { recursive: true });
      await copy.write(`clusters/${twin}/cluster.yaml`, clusterYaml);
      await copyFile(path.join(paths.clusters, 'apps', 'values.yaml'), copy.file(`clusters/${twin}/values.yaml`));
      const result = await copy.run`nx run-many -t render-crds -p apps,${twin},infra --skip-nx-cache --outputStyle=stream`;
      const output = result.stdout + result.stderr;
      expect(result.exitCode, output).toBe(0);
      // Two renders (infra, and one of the twins), one reuse.
      expect(output.match(/rendering helmfile\.d\/00-crds/g)).toHaveLength(2);
      expect(output).toMatch(/\[(apps|e2e-twin)\] ✔ reused the render of (apps|e2e-twin): the same helmfile\.d, values, registry mirror and tool versions/);
      expect(output).not.toMatch(/\[infra\] ✔ reused/);

      const bundleOf = (cluster: string) => copy.file(relative(bundleDir(cluster)));
      expect(await readFile(path.join(bundleOf(twin), 'crds.json'), 'utf8')).toBe(await readFile(path.join(bundleOf('apps'), 'crds.json'), 'utf8'));
      const [own, shared] = await Promise.all([loadBundle('apps', bundleOf('apps')), loadBundle(twin, bundleOf(twin))]);
      expect(shared.manifest).toMatchObject({ cluster: twin, environment: twin, count: own.manifest.count });
      expect(own.manifest).toMatchObject({ cluster: 'apps', environment: 'apps' });
      // The inputs hash leaves the cluster's name out: it is the key the twins share, and infra's differs.
      expect(shared.manifest.inputsSha256).toBe(own.manifest.inputsSha256);
      expect((await loadBundle('infra', bundleOf('infra'))).manifest.inputsSha256).not.toBe(own.manifest.inputsSha256);
    });
  });
});
