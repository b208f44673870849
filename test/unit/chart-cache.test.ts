// The charts and renders an audit keeps on disk, keyed by the registry's digest of the chart.
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { declaredSecretValues, manifestUrl, openChartCache } from '../../tasks/lib/gitops/chart-cache.ts';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';

const cluster = { name: 'infra', registryMirror: { host: '127.0.0.1:15000', plainHttp: true } } as ClusterConfig;
const roots: string[] = [];
const freshRoot = async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chart-cache-test-'));
  roots.push(root);
  return root;
};
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

describe('manifestUrl', () => {
  it('the registry API address of a chart tag, "+" written "_" as helm pushes it', () => {
    expect(manifestUrl('oci://127.0.0.1:15000/quay.io/cilium/charts/cilium', '1.19.7', true)).toBe('http://127.0.0.1:15000/v2/quay.io/cilium/charts/cilium/manifests/1.19.7');
    expect(manifestUrl('oci://mirror.example/ghcr/spegel', '0.7.4+build.1', false)).toBe('https://mirror.example/v2/ghcr/spegel/manifests/0.7.4_build.1');
  });

  it('nothing for a version range (helm resolves it) or a chart that is not OCI', () => {
    expect(manifestUrl('oci://127.0.0.1:15000/quay.io/cilium/charts/cilium', '1.19.x', true)).toBeUndefined();
    expect(manifestUrl('oci://127.0.0.1:15000/quay.io/cilium/charts/cilium', '>=1.19.0', true)).toBeUndefined();
    expect(manifestUrl('https://charts.example/cilium', '1.19.7', true)).toBeUndefined();
  });
});

describe('openChartCache', () => {
  it('runs a render once per key and reads it back after; a failed render is not kept', async () => {
    const cache = openChartCache(cluster, await freshRoot());
    let runs = 0;
    const run = async () => `kind: ConfigMap # ${++runs}`;
    expect(await cache.render(['sha256:a', 'cilium', { x: 1 }], run)).toEqual({ text: 'kind: ConfigMap # 1', kept: false });
    expect(await cache.render(['sha256:a', 'cilium', { x: 1 }], run)).toEqual({ text: 'kind: ConfigMap # 1', kept: true });
    expect(await cache.render(['sha256:b', 'cilium', { x: 1 }], run)).toEqual({ text: 'kind: ConfigMap # 2', kept: false });
    await expect(cache.render(['sha256:c'], () => Promise.reject(new Error('helm: values do not render')))).rejects.toThrow('values do not render');
    expect(await cache.render(['sha256:c'], run)).toEqual({ text: 'kind: ConfigMap # 3', kept: false });
  });

  it('keeps a pulled chart under its digest, and finds it again', async () => {
    const root = await freshRoot();
    const cache = openChartCache(cluster, root);
    const pulled = path.join(root, 'pulled', 'cilium');
    await mkdir(path.join(pulled, 'templates'), { recursive: true });
    await writeFile(path.join(pulled, 'Chart.yaml'), 'name: cilium\nversion: 1.19.7\n');
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(await cache.chartDir(digest)).toBeUndefined();
    const kept = await cache.keepChart(digest, pulled);
    expect(await cache.chartDir(digest)).toBe(kept);
    expect((await readdir(kept)).sort()).toEqual(['Chart.yaml', 'templates']);
    // Kept twice (two audits at once): one folder, no leftovers.
    expect(await cache.keepChart(digest, pulled)).toBe(kept);
    expect(await readdir(path.dirname(kept))).toEqual([path.basename(kept)]);
  });

  it('prune keeps the most recently used renders', async () => {
    const root = await freshRoot();
    const cache = openChartCache(cluster, root, 2);
    for (const key of ['old', 'mid', 'new']) await cache.render([key], async () => key);
    const renders = path.join(root, 'renders');
    const files = await readdir(renders);
    // Dated apart, the first file listed the least recently used.
    for (const [i, file] of files.entries()) await utimes(path.join(renders, file), new Date(1000 * (i + 1)), new Date(1000 * (i + 1)));
    const oldest = files[0]!;
    await cache.prune();
    const left = await readdir(renders);
    expect(left.length).toBe(2);
    expect(left).not.toContain(oldest);
  });

  it('never writes down a render that carries a secret cluster.yaml reads from the environment, and keeps its files to the user', async () => {
    const secretive = { ...cluster, prerequisites: { secrets: [{ name: 'cloudflare', namespace: 'cert-manager', type: 'Opaque', data: { 'api-token': { env: 'CF_TOKEN' }, other: { op: 'op://vault/item/field' } } }] } } as unknown as ClusterConfig;
    const env = { CF_TOKEN: 's3cret-token-value' };
    expect(declaredSecretValues(secretive, env)).toEqual(['s3cret-token-value']);
    expect(declaredSecretValues(secretive, { CF_TOKEN: 'x' })).toEqual([]);
    const root = await freshRoot();
    const cache = openChartCache(secretive, root, 10, env);
    let runs = 0;
    const leaky = async () => `stringData:\n  token: s3cret-token-value # ${++runs}`;
    expect(await cache.render(['sha256:a'], leaky)).toMatchObject({ kept: false });
    expect(await cache.render(['sha256:a'], leaky)).toMatchObject({ kept: false });
    expect(runs).toBe(2);
    expect(await cache.render(['sha256:b', { token: 's3cret-token-value' }], async () => 'kind: ConfigMap')).toMatchObject({ kept: false });
    await cache.render(['sha256:c'], async () => 'kind: ConfigMap');
    const renders = path.join(root, 'renders');
    expect((await readdir(renders)).length).toBe(1);
    expect((await stat(renders)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(renders, (await readdir(renders))[0]!))).mode & 0o777).toBe(0o600);
  });
});
