import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { checkIntegrity, type Bundle } from '../../tasks/lib/bundle/bundle-files.ts';
import { manifestEntry, stampSource, type Crd } from '../../tasks/lib/model/crd-bundle.ts';

function crd(plural: string): Crd {
  return stampSource(
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.monitoring.coreos.com` },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind: plural, plural },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } } }],
      },
    },
    'prometheus-operator-crds',
    '31.0.1',
  );
}

function bundle(crds: Crd[], count = crds.length): Bundle {
  return { crds, manifest: { cluster: 'infra', environment: 'infra', count, crds: crds.map((c) => manifestEntry(c, 'prometheus-operator-crds')) } };
}

const file = path.join(workspaceRoot, 'dist/crds/infra/crds.yaml');
const fix = '  fix: render it again (nothing was applied): nx run infra:render-crds --skip-nx-cache';

describe('bundle integrity', () => {
  it('accepts a bundle as rendered', () => {
    expect(() => checkIntegrity(bundle([crd('prometheuses'), crd('prometheusrules')]), file, 'infra')).not.toThrow();
  });

  it('refuses a CRD edited after the render (a shortened schema), naming it, with exit code 2', () => {
    const edited = crd('prometheuses');
    const rendered = bundle([edited]);
    edited.spec.versions[0]!.schema = { openAPIV3Schema: { type: 'object' } };
    let error: unknown;
    try {
      checkIntegrity(rendered, file, 'infra');
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe(
      `CRD prometheuses.monitoring.coreos.com in dist/crds/infra/crds.yaml: its content does not match the sha256 it was rendered with: the bundle was edited or damaged\n${fix}`,
    );
    expect((error as { exitCode?: number }).exitCode).toBe(2);
  });

  it('refuses an empty bundle and one whose count does not match the manifest', () => {
    expect(() => checkIntegrity(bundle([]), file, 'infra')).toThrow('the bundle holds no CustomResourceDefinition');
    const two = bundle([crd('prometheuses'), crd('prometheusrules')]);
    expect(() => checkIntegrity({ ...two, crds: two.crds.slice(1) }, file, 'infra')).toThrow('holds 1 CRDs, but manifest.json records 2');
  });
});
