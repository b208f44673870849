// Publishes the stand-in charts (test/fixtures/charts) to the sandbox registry under their
// upstream paths, so helmfile.d pointed at the mirror pulls them unchanged.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { parseValue } from '../../tasks/lib/runtime/yaml.ts';
import type { Logger } from '../../tasks/lib/runtime/log.ts';
import { sandboxEnv, sandboxPaths } from './state.ts';

export const fixtureCharts = path.join(workspaceRoot, 'test', 'fixtures', 'charts');

interface MirrorEntry {
  chart: string;
  repository: string;
  /** Folder under test/fixtures/charts; defaults to the chart name. */
  path?: string;
}

async function hashDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
  for (const file of files.map((f) => path.join(f.parentPath, f.name)).sort()) {
    hash.update(path.relative(dir, file)).update(await readFile(file));
  }
  return hash.digest('hex');
}

function helmfileCache(): string {
  return process.env['HELMFILE_CACHE_HOME'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'helmfile');
}

/** helmfile caches pulled charts by version: drop its copy of a chart pushed again under the same version. */
export async function dropHelmfileCache(registry: string, repository: string, chart: string, version: string): Promise<void> {
  const cached = path.join(helmfileCache(), `oci__${registry.replace(/[.:]/g, '_')}`, repository.replace(/\./g, '_'), chart, version);
  await rm(cached, { recursive: true, force: true });
}

export async function mirrorEntries(): Promise<MirrorEntry[]> {
  const mirror = parseValue<{ charts: MirrorEntry[] }>(await readFile(path.join(fixtureCharts, 'mirror.yaml'), 'utf8'));
  return mirror.charts;
}

/** Packages and pushes each chart whose content changed since it was last pushed. */
export async function publishCharts(registry: string, log: Logger): Promise<void> {
  await mkdir(sandboxPaths.chartsDir, { recursive: true });
  const $$ = $({ quiet: true, env: sandboxEnv(), cwd: workspaceRoot });
  let pushed = 0;
  const entries = await mirrorEntries();
  for (const entry of entries) {
    const dir = path.join(fixtureCharts, entry.path ?? entry.chart);
    const { version } = parseValue<{ version: string }>(await readFile(path.join(dir, 'Chart.yaml'), 'utf8'));
    const stamp = path.join(sandboxPaths.chartsDir, `${entry.chart}-${version}.sha256`);
    const digest = await hashDir(dir);
    if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === digest) continue;
    const packaged = await $$`helm package ${dir} --destination ${sandboxPaths.chartsDir}`;
    const tgz = /saved it to: (.+\.tgz)/.exec(packaged.stdout)?.[1]?.trim() ?? path.join(sandboxPaths.chartsDir, `${entry.chart}-${version}.tgz`);
    await $$`helm push ${tgz} ${`oci://${registry}/${entry.repository}`} --plain-http`;
    await writeFile(stamp, digest);
    await dropHelmfileCache(registry, entry.repository, entry.chart, version);
    log.success(`pushed ${registry}/${entry.repository}/${entry.chart}:${version}`);
    pushed++;
  }
  log.info(`${entries.length} stand-in charts in ${registry} (${pushed} pushed, ${entries.length - pushed} up to date)`);
}
