// renovate.json5 as Renovate reads it: its own validator accepts it (and refuses a broken copy);
// every `# renovate:` comment is matched by the custom manager, as Renovate applies it; and
// Renovate's own extraction and package rules put each chart's pins (helmfile.d/00-crds,
// helmfile.d/01-core, the GitOps tree) in one group. All offline: no lookup reaches a registry.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import JSON5 from 'json5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames, loadCluster } from '../../tasks/lib/model/config.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const exec = promisify(execFile);
const bin = (name: string) => path.join(workspaceRoot, 'node_modules', '.bin', name);
// The re2 addon npm builds here is for the Node that ran npm (20), not the Node 24 that runs
// Renovate: Renovate falls back to JavaScript's RegExp either way; this only silences its warning.
const env = { ...process.env, RENOVATE_X_IGNORE_RE2: '1' };

interface RegexManager {
  customType: 'regex';
  managerFilePatterns: string[];
  matchStrings: string[];
}
interface RenovateConfig {
  customManagers: RegexManager[];
  flux: { managerFilePatterns: string[] };
  packageRules: object[];
}

const config = JSON5.parse(await readFile(path.join(workspaceRoot, 'renovate.json5'), 'utf8')) as RenovateConfig;

/** A managerFilePatterns entry in its /regex/ form, as Renovate reads it (globs are not used here). */
function filePattern(entry: string): RegExp {
  expect(entry, 'write file patterns as /regex/').toMatch(/^\/.+\/$/);
  return new RegExp(entry.slice(1, -1));
}

/** Files of the repository (tracked, or new and not ignored), relative to the workspace root. */
async function repositoryFiles(): Promise<string[]> {
  const { stdout } = await exec('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: workspaceRoot, maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean);
}

describe('renovate.json5', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'renovate-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  const validate = (file: string) => exec(bin('renovate-config-validator'), ['--strict', '--no-global', file], { cwd: workspaceRoot, env }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
  );

  it("passes Renovate's own validator, which refuses a copy with a misspelled option", async () => {
    const good = await validate('renovate.json5');
    expect(good.output).toContain('Config validated successfully');
    expect(good.code).toBe(0);

    const broken = path.join(scratch, 'renovate.json5');
    await writeFile(broken, (await readFile(path.join(workspaceRoot, 'renovate.json5'), 'utf8')).replace("groupName: 'chart {{depName}}'", "groupNam: 'chart {{depName}}'"));
    const refused = await validate(broken);
    expect(refused.output).toContain('Invalid configuration option: packageRules[0].groupNam');
    expect(refused.code).toBe(1);
  });

  it('matches every # renovate: comment of the repository with the custom manager, capturing the pin below it', async () => {
    const [manager] = config.customManagers;
    const files = (await repositoryFiles()).filter((file) => !file.endsWith('.md')); // prose shows examples
    let comments = 0;
    for (const file of files) {
      const text = await readFile(path.join(workspaceRoot, file), 'utf8').catch(() => '');
      const lines = text.split('\n');
      const at = lines.flatMap((line, index) => (/^\s*# renovate:/.test(line) ? [index] : []));
      if (at.length === 0) continue;
      expect(manager!.managerFilePatterns.some((entry) => filePattern(entry).test(file)), `${file} is not among the manager's files`).toBe(true);
      // Renovate's "any" strategy: each matchString with the g flag, named groups.
      const matches = manager!.matchStrings.flatMap((source) => [...text.matchAll(new RegExp(source, 'g'))]);
      for (const index of at) {
        const match = matches.find((m) => text.slice(0, m.index).split('\n').length - 1 === index);
        expect(match, `${file}:${index + 1} is not matched: ${lines[index]}`).toBeDefined();
        expect(match!.groups!['datasource']).toMatch(/^(docker|go)$/);
        expect(lines[index + 1]).toContain(match!.groups!['currentValue']!);
        comments++;
      }
    }
    // helmfile.d's 12 releases and versions.env's 9 tools at least: the test read real files.
    expect(comments).toBeGreaterThanOrEqual(21);
  });

  it('keeps its regular expressions within RE2 (no lookaround, no backreference), which Renovate prefers', () => {
    const patterns = [...config.customManagers.flatMap((m) => [...m.matchStrings, ...m.managerFilePatterns]), ...config.flux.managerFilePatterns];
    for (const source of patterns) expect(source).not.toMatch(/\(\?<?[=!]|\\[1-9]/);
  });

  it('covers the GitOps tree each cluster reconciles with the flux manager', async () => {
    for (const name of await clusterNames()) {
      const { gitops } = await loadCluster(name);
      if (!gitops || path.resolve(workspaceRoot, gitops.root) !== workspaceRoot) continue; // a tree kept elsewhere has its own Renovate
      for (const folder of gitops.folders ?? [gitops.entry.split('/')[0]!]) {
        expect(config.flux.managerFilePatterns.some((entry) => filePattern(entry).test(`${folder}/apps/x/ocirepository.yaml`)), `${name}: ${folder}`).toBe(true);
      }
    }
  });
});

interface ExtractedDep {
  depName: string;
  packageName?: string;
  currentValue: string;
  datasource: string;
  skipReason?: string;
}
interface ExtractedUpgrade extends ExtractedDep {
  manager: string;
  packageFile: string;
}

describe("Renovate's own extraction of the repository (renovate --platform=local --dry-run=extract)", () => {
  let upgrades: ExtractedUpgrade[];
  beforeAll(async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'renovate-base-'));
    try {
      // Read-only on the checkout (git ls-files: committed and staged files); its cache goes to base.
      const { stdout } = await exec(bin('renovate'), ['--platform=local', '--dry-run=extract', '--onboarding=false', '--require-config=optional'], {
        cwd: workspaceRoot,
        env: { ...env, LOG_LEVEL: 'debug', LOG_FORMAT: 'json', RENOVATE_BASE_DIR: base },
        maxBuffer: 64 * 1024 * 1024,
      });
      const line = stdout.split('\n').find((l) => l.includes('"msg":"Extracted dependencies"'));
      const packageFiles = (JSON.parse(line!) as { packageFiles: Record<string, Array<{ packageFile: string; deps: ExtractedDep[] }>> }).packageFiles;
      upgrades = Object.entries(packageFiles).flatMap(([manager, files]) => files.flatMap((f) => f.deps.map((d) => ({ ...d, manager, packageFile: f.packageFile }))));
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 60_000);

  const charts = () => upgrades.filter((u) => u.datasource === 'docker' && (u.manager === 'regex' || u.manager === 'flux'));

  it('finds every chart pin: the comments in helmfile.d and each OCIRepository of the tree, none skipped', async () => {
    // Every file of the tree declaring an OCIRepository (a top-level kind, not a sourceRef).
    const treeFiles = (await repositoryFiles()).filter((f) => f.startsWith('kubernetes/') && /\.ya?ml$/.test(f));
    const declares = await Promise.all(treeFiles.map(async (f) => /^kind: OCIRepository$/m.test(await readFile(path.join(workspaceRoot, f), 'utf8'))));
    const ociRepositories = treeFiles.filter((_, i) => declares[i]);
    const found = charts();
    expect(found.filter((u) => u.manager === 'flux').map((u) => u.packageFile).sort()).toEqual(ociRepositories.sort());
    expect(found.filter((u) => u.packageFile.startsWith('helmfile.d/'))).toHaveLength(12);
    expect(found.filter((u) => u.skipReason)).toEqual([]);
    // Renovate's helmfile manager is off: it cannot read a chart behind {{ $oci }}.
    expect(upgrades.filter((u) => u.manager === 'helmfile')).toEqual([]);
  });

  it('puts a chart of 00-crds, 01-core and the tree in one group, labelled as a CRD chart', async () => {
    // Renovate's own rule matching and templating: internal modules of the pinned version, untyped.
    const internal = (file: string) => import(pathToFileURL(path.join(workspaceRoot, 'node_modules/renovate/dist', file)).href);
    const { applyPackageRules } = (await internal('util/package-rules/index.js')) as {
      applyPackageRules: (config: object) => Promise<{ groupName?: string; addLabels?: string[] }>;
    };
    const { compile } = (await internal('util/template/index.js')) as { compile: (template: string, input: object) => string };
    const ruled = await Promise.all(
      charts().map(async (u) => {
        const applied = await applyPackageRules({ ...u, packageRules: config.packageRules });
        return { ...u, addLabels: applied.addLabels, groupName: applied.groupName && compile(applied.groupName, u) };
      }),
    );
    const certManager = ruled.filter((u) => u.depName === 'quay.io/jetstack/charts/cert-manager');
    expect(certManager.map((u) => u.packageFile).sort()).toEqual([
      'helmfile.d/00-crds.yaml.gotmpl',
      'helmfile.d/01-core.yaml.gotmpl',
      'kubernetes/apps/cert-manager/cert-manager/app/ocirepository.yaml',
    ]);
    expect(new Set(certManager.map((u) => u.groupName))).toEqual(new Set(['chart quay.io/jetstack/charts/cert-manager']));
    // Renovate merges the labels of a branch's upgrades: the 00-crds pin labels the pull request.
    expect(certManager.find((u) => u.packageFile.includes('00-crds'))!.addLabels).toEqual(['crd-chart']);
    expect(certManager.find((u) => u.packageFile.includes('01-core'))!.addLabels).toBeUndefined();

    const flux = ruled.filter((u) => u.depName.startsWith('ghcr.io/controlplaneio-fluxcd/charts/'));
    expect(flux).toHaveLength(5); // flux-operator in 00-crds, 01-core, the tree; flux-instance in 01-core, the tree
    expect(new Set(flux.map((u) => u.groupName))).toEqual(new Set(['chart flux-operator and flux-instance']));

    // Every chart the tree pins that helmfile.d also pins has the same name in both: one group.
    const tree = ruled.filter((u) => u.manager === 'flux');
    const helmfile = new Set(ruled.filter((u) => u.manager === 'regex').map((u) => u.depName));
    expect(tree.filter((u) => helmfile.has(u.depName)).length).toBe(8); // all but silence-operator
  }, 30_000);
});
