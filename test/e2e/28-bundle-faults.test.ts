// A bundle the crds phase cannot trust, or cannot apply whole, leaves the cluster as it was:
// a hand-edited, empty or unparsable bundle is refused with exit 2 naming the CRD or the line;
// a stale bundle is refused when crds runs alone; a chart that renders an invalid CRD is caught
// by the server-side dry-run before the first write, and the valid CRDs beside it are not applied.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCrds } from '../../tasks/lib/cluster/kube.ts';
import { bundleYaml, type Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { bundleDir, paths, relative } from '../../tasks/lib/runtime/workspace.ts';
import { loadMachineWritten } from '../../tasks/lib/runtime/yaml.ts';
import { kubeFor, run } from '../helpers/sandbox.ts';
import { pin, publishVariant, withCrdsHelmfile } from '../helpers/variants.ts';

const kube = kubeFor('apps');
const bundleFile = path.join(bundleDir('apps'), 'crds.yaml');

/** name → resourceVersion of every CRD: equal before and after means nothing was written. */
async function crdVersions(): Promise<Map<string, string | undefined>> {
  return new Map([...(await listCrds(kube))].map(([name, crd]) => [name, crd.metadata?.resourceVersion]));
}

async function render(): Promise<void> {
  const rendered = await run`nx run apps:render-crds --skip-nx-cache --outputStyle=stream`;
  expect(rendered.exitCode, rendered.stderr).toBe(0);
}

describe('bundle faults', () => {
  afterAll(render);

  it('starts from an applied bundle', async () => {
    await render();
    const applied = await run`node tasks/crds.ts --cluster apps`;
    expect(applied.exitCode, applied.stderr).toBe(0);
  });

  it('refuses a hand-shortened CRD, an empty bundle and invalid YAML with exit 2, writing nothing', async () => {
    const before = await crdVersions();
    const original = await readFile(bundleFile, 'utf8');
    try {
      const crds = loadMachineWritten(original) as Crd[];
      const prometheuses = crds.find((c) => c.metadata.name === 'prometheuses.monitoring.coreos.com')!;
      prometheuses.spec.versions[0]!.schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
      await writeFile(bundleFile, bundleYaml(crds));
      const edited = await run`node tasks/crds.ts --cluster apps`;
      expect(edited.exitCode).toBe(2);
      expect(edited.stderr).toContain(
        '✗ crds failed: CRD prometheuses.monitoring.coreos.com in dist/crds/apps/crds.yaml: its content does not match the sha256 it was rendered with: the bundle was edited or damaged',
      );
      expect(edited.stderr).toContain('fix: render it again (nothing was applied): nx run apps:render-crds --skip-nx-cache');

      await writeFile(bundleFile, '');
      const empty = await run`node tasks/verify.ts --cluster apps`;
      expect(empty.exitCode).toBe(2);
      expect(empty.stderr).toContain('dist/crds/apps/crds.yaml: the bundle holds no CustomResourceDefinition');

      await writeFile(bundleFile, `${original.slice(0, 2000)}\n  bad: [unclosed\n`);
      const invalid = await run`node tasks/plan.ts --cluster apps`;
      expect(invalid.exitCode).toBe(2);
      expect(invalid.stderr).toMatch(/✗ plan failed: dist\/crds\/apps\/crds\.yaml:\d+: invalid YAML: /);
      expect(invalid.stderr).not.toContain('failed unexpectedly');
    } finally {
      await writeFile(bundleFile, original);
    }
    expect(await crdVersions()).toEqual(before);
  });

  it('refuses a stale bundle when crds runs without its dependencies', async () => {
    const manifestFile = path.join(bundleDir('apps'), 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestFile, JSON.stringify({ ...manifest, inputsSha256: '0'.repeat(64) }));
    try {
      const stale = await run`nx run apps:crds --exclude-task-dependencies --outputStyle=stream`;
      expect(stale.exitCode).not.toBe(0);
      expect(stale.stdout + stale.stderr).toContain('the bundle was rendered from other inputs than the ones in the tree');
    } finally {
      await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
    }
  });

  it('an invalid CRD fails the dry-run before the first write: the valid new CRD beside it is not created either', async () => {
    // 31.0.9-e2e-invalid adds two CRDs: one valid, one whose name does not match its group.
    const extra = (plural: string, group: string) =>
      `\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${plural}.monitoring.coreos.com\nspec:\n  group: ${group}\n  names: { kind: E2e${plural}, plural: ${plural}, listKind: E2e${plural}List, singular: ${plural.slice(0, -1)} }\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }\n`;
    await publishVariant({
      chart: 'prometheus-operator-crds',
      from: '31.0.1',
      to: '31.0.9-e2e-invalid',
      edit: { 'templates/crd-podmonitors.yaml': (text) => `${text.trimEnd()}${extra('e2egoods', 'monitoring.coreos.com')}${extra('e2ebads', 'wrong.example.com')}` },
    });
    const before = await crdVersions();
    await withCrdsHelmfile(pin('prometheus-operator-crds', '31.0.1', '31.0.9-e2e-invalid'), async (copy) => {
      expect((await copy.run`node tasks/render-crds.ts --cluster apps`).exitCode).toBe(0);
      const result = await copy.run`node tasks/crds.ts --cluster apps`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain("CRD phase of apps: 1 CRD(s) to create fail the API server's dry-run; nothing was applied:");
      expect(result.stderr).toContain('CustomResourceDefinition e2ebads.monitoring.coreos.com: server-side dry-run failed:');
    });
    expect(await crdVersions()).toEqual(before);
    expect(before.has('e2egoods.monitoring.coreos.com')).toBe(false);
  });

  it('a template error in helmfile.d is reported at the line of the file, not of helmfile\'s part', async () => {
    const broken = (text: string) => text.replace('    version: 31.0.1', '    version: {{ .Values.nope.missing }}');
    await withCrdsHelmfile(broken, async (copy) => {
      const line = (await readFile(copy.file(relative(paths.crdsHelmfile)), 'utf8')).split('\n').findIndex((l) => l.includes('.Values.nope.missing')) + 1;
      const result = await copy.run`node tasks/render-crds.ts --cluster apps`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`✗ render-crds failed: helmfile.d/00-crds.yaml.gotmpl:${line} (version: {{ .Values.nope.missing }}): helmfile list failed`);
      expect(result.stderr).toContain('map has no entry for key "nope"');
    });
  });
});
