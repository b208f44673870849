// Charts and their renders kept on disk between audits, keyed by what the registry says the chart
// is: the digest of its manifest (one HEAD request, no helm process). A warm audit then pulls no
// chart and runs no `helm template` it ran before; a tag pushed again with other content has
// another digest, so a render is never stale. Without a digest (a version range, a registry that
// asks for credentials, not OCI) the chart store pulls and renders as before, and keeps nothing.
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';

/** Where the cache lives: BOOTSTRAP_CHART_CACHE, else the user's cache folder (as the built tools). */
export const chartCacheRoot = (): string =>
  process.env['BOOTSTRAP_CHART_CACHE'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'cluster-bootstrap', 'charts');

/** Renders kept; the least recently used beyond this are removed when an audit closes its store. */
const KEPT_RENDERS = 2000;

// helm pushes a chart version as a tag with "+" written "_"; a range is resolved by helm, not here.
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

/** The registry API address of an oci:// chart reference (already through the mirror), or undefined. */
export function manifestUrl(ociUrl: string, version: string, plainHttp: boolean): string | undefined {
  const match = /^oci:\/\/([^/]+)\/(.+)$/.exec(ociUrl);
  if (!match || !EXACT_VERSION.test(version)) return undefined;
  return `${plainHttp ? 'http' : 'https'}://${match[1]}/v2/${match[2]}/manifests/${version.replace(/\+/g, '_')}`;
}

/**
 * The values of the secrets cluster.yaml reads from the environment (prerequisites.secrets): a
 * chart's values may carry one (helmfile reads the same environment), and secrets are never stored.
 */
export function declaredSecretValues(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const names = (cluster.prerequisites?.secrets ?? []).flatMap((s) => Object.values(s.data).flatMap((source) => ('env' in source ? [source.env] : [])));
  // Shorter than 4 characters a value matches most renders (a placeholder such as "x"), and is no real secret.
  return names.map((name) => env[name] ?? '').filter((value) => value.length >= 4);
}

export interface ChartCache {
  /** The chart's manifest digest, or undefined when the registry will not say. */
  digest(ociUrl: string, version: string): Promise<string | undefined>;
  /** The cached chart folder of a digest, if kept. */
  chartDir(digest: string): Promise<string | undefined>;
  /** Keeps a pulled, untarred chart under its digest; returns the kept folder. */
  keepChart(digest: string, pulledDir: string): Promise<string>;
  /** A render by its key: read back when kept (`kept`), else run and kept. */
  render(key: unknown[], run: () => Promise<string>): Promise<{ text: string; kept: boolean }>;
  /** Removes the least recently used renders beyond the limit. */
  prune(): Promise<void>;
}

export function openChartCache(cluster: ClusterConfig, root = chartCacheRoot(), keptRenders = KEPT_RENDERS, env: NodeJS.ProcessEnv = process.env): ChartCache {
  const secrets = declaredSecretValues(cluster, env);
  const charts = path.join(root, 'charts');
  const renders = path.join(root, 'renders');
  // Written beside its final name and renamed: a reader never sees half a file or folder.
  const scratchName = (final: string) => `${final}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const exists = (p: string) => stat(p).then(() => true, () => false);
  const digestFolder = (digest: string) => path.join(charts, digest.replace(/[^A-Za-z0-9]/g, '-'));

  return {
    digest: async (ociUrl, version) => {
      const url = manifestUrl(ociUrl, version, cluster.registryMirror?.plainHttp ?? false);
      if (!url) return undefined;
      const response = await fetch(url, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      const digest = response?.ok ? response.headers.get('docker-content-digest') : null;
      return digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
    },
    chartDir: async (digest) => {
      const dir = digestFolder(digest);
      return (await exists(dir)) ? dir : undefined;
    },
    keepChart: async (digest, pulledDir) => {
      const dir = digestFolder(digest);
      if (await exists(dir)) return dir;
      await mkdir(charts, { recursive: true, mode: 0o700 });
      const temporary = scratchName(dir);
      await cp(pulledDir, temporary, { recursive: true });
      // Another audit may have kept it meanwhile: theirs is the same chart.
      await rename(temporary, dir).catch(() => rm(temporary, { recursive: true, force: true }));
      return dir;
    },
    render: async (key, run) => {
      const file = path.join(renders, `${createHash('sha256').update(JSON.stringify(key)).digest('hex')}.yaml`);
      // A render that carries a secret the cluster declares is never written down (its key is a hash).
      const secret = (text: string) => secrets.some((value) => text.includes(value));
      const kept = await readFile(file, 'utf8').catch(() => undefined);
      if (kept !== undefined) {
        // Its time says when it was last used, for prune().
        await utimes(file, new Date(), new Date()).catch(() => undefined);
        return { text: kept, kept: true };
      }
      const text = await run();
      if (secret(text) || secret(JSON.stringify(key))) return { text, kept: false };
      await mkdir(renders, { recursive: true, mode: 0o700 });
      const temporary = scratchName(file);
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, file);
      return { text, kept: false };
    },
    prune: async () => {
      const names = await readdir(renders).catch(() => [] as string[]);
      if (names.length <= keptRenders) return;
      const dated = await Promise.all(names.map(async (name) => ({ name, used: (await stat(path.join(renders, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
      dated.sort((a, b) => b.used - a.used);
      await Promise.all(dated.slice(keptRenders).map(({ name }) => rm(path.join(renders, name), { force: true })));
    },
  };
}
