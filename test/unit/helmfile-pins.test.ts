// Guards against the original plan's chart mistakes (FACTS E1–E3, E7) in helmfile.d itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseValue } from '../../tasks/lib/runtime/yaml.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';

interface Release {
  name: string;
  chart: string;
  version: string;
  values?: Array<Record<string, unknown>>;
}

/** The releases of a state file, with its Go template expressions replaced by placeholders. */
function releasesOf(file: string): { releases: Release[]; text: string } {
  const text = readFileSync(path.join(paths.helmfileDir, file), 'utf8');
  const body = text.split('\n---\n')[1]!
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('{{'))
    .join('\n')
    .replace(/\{\{ \$oci \}\}/g, 'oci://')
    .replace(/\{\{[^}]*\}\}/g, 'templated');
  return { releases: parseValue<{ releases: Release[] }>(body).releases, text };
}

const crds = releasesOf('00-crds.yaml.gotmpl');
const core = releasesOf('01-core.yaml.gotmpl');
const byName = (list: Release[], name: string) => list.find((r) => r.name === name)!;
// A templated item (each core release's chartValues passthrough) is not a literal: left out.
const valuesOf = (release: Release) => Object.assign({}, ...(release.values ?? []).filter((v) => typeof v === 'object')) as Record<string, any>;

describe('helmfile.d pins', () => {
  it('pins the VictoriaMetrics CRD chart at its own version, not the operator version (E1)', () => {
    // The rule, not a number (a Renovate bump must not fail it): the CRD chart was first published
    // in 2025 at 0.x, while the operator and its chart are at 0.5x and beyond.
    const vm = byName(crds.releases, 'victoria-metrics-operator-crds');
    expect(vm.chart).toBe('oci://ghcr.io/victoriametrics/helm-charts/victoria-metrics-operator-crds');
    const [major, minor] = vm.version.split('.').map(Number);
    expect(major).toBe(0);
    expect(minor).toBeLessThan(50);
  });

  it('renders the Prometheus CRDs in the CRD phase (E2)', () => {
    const release = byName(crds.releases, 'prometheus-operator-crds');
    expect(release.chart).toBe('oci://ghcr.io/prometheus-community/charts/prometheus-operator-crds');
    expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('turns cert-manager CRDs on for the CRD phase and off for core, never with installCRDs (E3)', () => {
    expect(valuesOf(byName(crds.releases, 'cert-manager'))).toEqual({ crds: { enabled: true } });
    expect(valuesOf(byName(core.releases, 'cert-manager'))).toEqual({ crds: { enabled: false } });
  });

  it("turns every core chart's CRD installation off", () => {
    expect(valuesOf(byName(core.releases, 'external-secrets'))).toMatchObject({ installCRDs: false });
    expect(valuesOf(byName(core.releases, 'flux-operator'))).toMatchObject({ installCRDs: false });
  });

  it('uses no post-renderer (Helm 4 accepts only plugins there) (E7)', () => {
    expect(crds.text).not.toMatch(/postRenderer|yq/);
    expect(core.text).not.toMatch(/postRenderer|yq/);
  });

  it('gives every pin a Renovate comment', () => {
    for (const { text, releases } of [crds, core]) {
      expect(text.match(/# renovate: datasource=docker depName=/g)?.length).toBe(releases.length);
    }
  });
});
