// `npm run sandbox -- push <chart.tgz | folder>… [--path <upstream repository path>]`: puts
// packaged charts (the real ones of your mirror, say) into the sandbox registry at their upstream
// paths, so helmfile.d pulls them through registryMirror exactly as it pulls the stand-ins.
// Resumable: a chart whose exact archive is already at that tag (the OCI layer digest is the
// archive's sha256) is skipped; rerun after an interruption and only the rest is pushed.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import type { Logger } from '../../tasks/lib/runtime/log.ts';
import { relative } from '../../tasks/lib/runtime/workspace.ts';
import { parseValue } from '../../tasks/lib/runtime/yaml.ts';
import { mirrorEntries } from './charts.ts';
import { sandboxEnv } from './state.ts';

export interface PushResult {
  chart: string;
  reference: string;
  pushed: boolean;
}

async function archives(entries: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const entry of entries) {
    const info = await stat(entry).catch(() => undefined);
    if (!info) throw new BootstrapError({ subject: entry, problem: 'does not exist', fix: 'pass packaged charts (helm package) or a folder of them' });
    if (info.isDirectory()) files.push(...(await readdir(entry)).filter((f) => f.endsWith('.tgz')).sort().map((f) => path.join(entry, f)));
    else files.push(entry);
  }
  if (files.length === 0) throw new BootstrapError({ subject: entries.join(' '), problem: 'holds no .tgz chart', fix: 'package charts with helm package, or helm pull them from your mirror' });
  return files;
}

/** The digest of the chart layer already at registry/repository/chart:version, if any. */
async function pushedDigest(registry: string, repository: string, chart: string, version: string): Promise<string | undefined> {
  const url = `http://${registry}/v2/${repository}/${chart}/manifests/${encodeURIComponent(version.replace(/\+/g, '_'))}`;
  const response = await fetch(url, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) return undefined;
  const manifest = (await response.json()) as { layers?: Array<{ mediaType: string; digest: string }> };
  return manifest.layers?.find((l) => l.mediaType === 'application/vnd.cncf.helm.chart.content.v1.tar+gzip')?.digest;
}

export async function pushCharts(registry: string, entries: string[], upstreamPath: string | undefined, log: Logger): Promise<PushResult[]> {
  const known = new Map((await mirrorEntries()).map((e) => [e.chart, e.repository]));
  const $$ = $({ quiet: true, nothrow: true, env: sandboxEnv() });
  const results: PushResult[] = [];
  for (const file of await archives(entries)) {
    const shown = await $$`helm show chart ${file}`;
    if (shown.exitCode !== 0) {
      throw new BootstrapError({ subject: relative(file), problem: `is not a Helm chart archive: ${shown.stderr.trim().split('\n').at(-1)}`, fix: 'pass the .tgz that helm package or helm pull wrote' });
    }
    const { name, version } = parseValue<{ name: string; version: string }>(shown.stdout);
    const repository = (upstreamPath ?? known.get(name))?.replace(/^oci:\/\//, '').replace(/\/+$/, '');
    if (!repository) {
      throw new BootstrapError({
        subject: `chart ${name} (${relative(file)})`,
        problem: 'its upstream path is unknown',
        fix: `pass it: --path <registry host>/<repository>, e.g. --path ghcr.io/example/charts (the chart reference in helmfile.d without oci:// and without the chart name)`,
      });
    }
    const reference = `${registry}/${repository}/${name}:${version}`;
    const digest = `sha256:${createHash('sha256').update(await readFile(file)).digest('hex')}`;
    if ((await pushedDigest(registry, repository, name, version)) === digest) {
      log.info(`${reference} is already there`);
      results.push({ chart: name, reference, pushed: false });
      continue;
    }
    const pushed = await $$`helm push ${file} ${`oci://${registry}/${repository}`} --plain-http`;
    if (pushed.exitCode !== 0) {
      throw new BootstrapError({ subject: `push of ${relative(file)}`, problem: pushed.stderr.trim().split('\n').at(-1) ?? `exit ${pushed.exitCode}`, fix: 'check the registry is up: npm run sandbox -- status' });
    }
    log.success(`pushed ${reference}`);
    results.push({ chart: name, reference, pushed: true });
  }
  return results;
}
