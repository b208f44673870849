// One pin per chart: a chart that helmfile.d/00-crds and helmfile.d/01-core pin at two versions is
// refused, naming both lines and the fix. Judged with the real helmfile on a temporary copy of
// helmfile.d (and the cluster's values.yaml it reads); the checkout is never edited.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../tasks/lib/model/config.ts';
import { AggregateBootstrapError, BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { paths, relative, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { assertOnePinPerChart, pinConflicts, upstreamChart, versionLine, type ChartPin } from '../../tasks/lib/tools/chart-pins.ts';
import { withToolsOnPath } from '../../tasks/lib/tools/tool-identity.ts';

const pin = (over: Partial<ChartPin>): ChartPin => ({ release: 'cert-manager', namespace: 'cert-manager', chart: 'quay.io/jetstack/charts/cert-manager', version: 'v1.21.1', file: 'helmfile.d/00-crds.yaml.gotmpl', line: 32, ...over });

describe('pins (pure)', () => {
  it('finds the line of a release’s version:, not another release’s', async () => {
    const text = await readFile(paths.coreHelmfile, 'utf8');
    const lines = text.split('\n');
    const line = versionLine(text, 'cert-manager');
    expect(lines[line - 1]).toBe('    version: v1.21.1');
    expect(lines.slice(0, line).reverse().find((l) => l.includes('- name:'))).toBe('  - name: cert-manager');
    expect(versionLine(text, 'flux-instance')).toBeGreaterThan(versionLine(text, 'flux-operator'));
    expect(versionLine(text, 'no-such-release')).toBe(0);
  });

  it('a chart at two versions conflicts; a leading v and other charts do not', () => {
    const crds = [pin({}), pin({ release: 'flux-operator', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.58.1' })];
    const core = [pin({ version: '1.21.1', file: 'helmfile.d/01-core.yaml.gotmpl' }), pin({ release: 'flux-operator', chart: 'ghcr.io/controlplaneio-fluxcd/charts/flux-operator', version: '0.59.0', file: 'helmfile.d/01-core.yaml.gotmpl', line: 80 })];
    expect(pinConflicts(crds, core)).toEqual([[crds[1], core[1]]]);
  });

  it('names a chart by its upstream path, whatever mirror it is pulled through', () => {
    expect(upstreamChart('oci://127.0.0.1:15000/quay.io/jetstack/charts/cert-manager', '127.0.0.1:15000')).toBe('quay.io/jetstack/charts/cert-manager');
    expect(upstreamChart('oci://quay.io/jetstack/charts/cert-manager', undefined)).toBe('quay.io/jetstack/charts/cert-manager');
  });
});

describe('assertOnePinPerChart (helmfile list on a copy of helmfile.d)', () => {
  let scratch: string;
  let files: { crds: string; core: string };
  beforeAll(async () => {
    withToolsOnPath();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'chart-pins-'));
    await cp(paths.helmfileDir, path.join(scratch, 'helmfile.d'), { recursive: true });
    // The environment base reads ../clusters/<environment>/values.yaml, relative to the state file.
    await mkdir(path.join(scratch, 'clusters', 'infra'), { recursive: true });
    await cp(path.join(workspaceRoot, 'clusters', 'infra', 'values.yaml'), path.join(scratch, 'clusters', 'infra', 'values.yaml'));
    files = { crds: path.join(scratch, 'helmfile.d', '00-crds.yaml.gotmpl'), core: path.join(scratch, 'helmfile.d', '01-core.yaml.gotmpl') };
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  const target = async () => ({ cluster: await loadCluster('infra'), context: 'kwok-infra' });
  /** Bumps one release's version in a copied state file; returns the line it is on. */
  async function bump(file: string, release: string, from: string, to: string): Promise<number> {
    const text = await readFile(file, 'utf8');
    const line = versionLine(text, release);
    const lines = text.split('\n');
    expect(lines[line - 1]).toBe(`    version: ${from}`);
    lines[line - 1] = `    version: ${to}`;
    await writeFile(file, lines.join('\n'));
    return line;
  }

  it('passes helmfile.d as it is', async () => {
    await expect(assertOnePinPerChart(await target(), files)).resolves.toBeUndefined();
  });

  it('refuses cert-manager bumped in 01-core only, naming both lines and the fix', async () => {
    const coreLine = await bump(files.core, 'cert-manager', 'v1.21.1', 'v1.22.0');
    const crdsLine = versionLine(await readFile(files.crds, 'utf8'), 'cert-manager');
    const error = await assertOnePinPerChart(await target(), files).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapError);
    const crdsAt = `${relative(files.crds)}:${crdsLine}`;
    const coreAt = `${relative(files.core)}:${coreLine}`;
    expect((error as BootstrapError).message).toBe(
      `${crdsAt} and ${coreAt}: chart quay.io/jetstack/charts/cert-manager is pinned at v1.21.1 for the CRD phase (release cert-manager) and at v1.22.0 for core (release cert-manager): its controller would run on CRDs of another version\n` +
        `  fix: pin one version in both lines (version: v1.22.0 in ${crdsAt}, or version: v1.21.1 in ${coreAt}); renovate.json5 groups the two pins so one pull request moves both`,
    );
  });

  it('lists every chart at two versions at once', async () => {
    await bump(files.core, 'flux-operator', '0.58.1', '0.59.0');
    const error = await assertOnePinPerChart(await target(), files).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateBootstrapError);
    expect((error as AggregateBootstrapError).failures.map((f) => f.split(':')[0])).toEqual([relative(files.crds), relative(files.crds)]);
    expect((error as Error).message).toMatch(/^2 charts are pinned at two versions in helmfile\.d\n {2}✗ .*cert-manager[\s\S]*✗ .*flux-operator is pinned at 0\.58\.1/);
  });
});
