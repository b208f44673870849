// The shared Nx cache: Nx's own self-hosted remote cache client, our server, entries stored in the
// sandbox's OCI registry. Two fresh clones with their own cache folders: the second renders
// nothing and restores the bundle. A read-only token stores nothing. No entry holds a secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { freePort } from '../../tasks/lib/runtime/free-port.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { registry, run, testEnv } from '../helpers/sandbox.ts';

const repository = `nx-cache-e2e-${randomBytes(4).toString('hex')}`;
const [readWrite, readOnly] = [randomBytes(16).toString('hex'), randomBytes(16).toString('hex')];
const sentinel = `sentinel-${randomBytes(12).toString('hex')}`;
let scratch = '';
let server: ChildProcess;
let cacheUrl = '';

/** A fresh clone of the committed tree, sharing only node_modules and the built tools. */
async function clone(name: string): Promise<string> {
  const dir = path.join(scratch, name);
  expect((await run`git clone -q ${workspaceRoot} ${dir}`).exitCode).toBe(0);
  await symlink(path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules'));
  await symlink(path.join(workspaceRoot, '.tools'), path.join(dir, '.tools'));
  // The sandbox's kubeconfig and state live in the first workspace; the clones only render.
  return dir;
}

const nxIn = (dir: string, token: string, target: string) =>
  $({
    quiet: true,
    nothrow: true,
    cwd: dir,
    env: testEnv({
      NX_CACHE_DIRECTORY: path.join(dir, '.nx-cache'),
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: cacheUrl,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
      INFRA_CLOUDFLARE_API_TOKEN: sentinel,
    }),
  })`npx nx run ${target} --outputStyle=stream`;

const tags = async () => ((await (await fetch(`http://${registry}/v2/${repository}/tags/list`)).json()) as { tags?: string[] | null }).tags ?? [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'remote-cache-'));
  const port = await freePort();
  cacheUrl = `http://127.0.0.1:${port}`;
  server = spawn('node', ['scripts/nx-cache/server.ts', '--port', String(port), '--registry', `http://${registry}`, '--repository', repository], {
    cwd: workspaceRoot,
    env: { ...process.env, NX_CACHE_READ_WRITE_TOKENS: readWrite, NX_CACHE_READ_ONLY_TOKENS: readOnly },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  for (let i = 0; i < 100 && (await fetch(`${cacheUrl}/v1/cache/x`).catch(() => undefined)) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  server?.kill('SIGTERM');
  await rm(scratch, { recursive: true, force: true });
});

describe('remote cache shared by two machines', () => {
  it('the second clone restores the render from the shared cache and renders nothing', async () => {
    const first = await clone('laptop');
    const rendered = await nxIn(first, readWrite, 'infra:audit');
    expect(rendered.exitCode, rendered.stdout + rendered.stderr).toBe(0);
    expect(rendered.stdout).not.toContain('[remote cache]');
    expect((await tags()).length).toBe(2); // render-crds and audit

    const second = await clone('ci-runner');
    const restored = await nxIn(second, readWrite, 'infra:audit');
    expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/infra:render-crds.*\[remote cache\]/);
    expect(restored.stdout).toMatch(/infra:audit.*\[remote cache\]/);
    const bundle = (dir: string) => readFile(path.join(dir, 'dist/crds/infra/crds.yaml'), 'utf8');
    expect(await bundle(second)).toBe(await bundle(first));
  });

  it('a read-only token (pull requests) reads but stores nothing, and an entry is never overwritten', async () => {
    const pr = await clone('pull-request');
    await writeFile(path.join(pr, 'kubernetes/apps/default/echo/app/resources/config.yaml'), '---\nendpoints: []\n');
    const before = await tags();
    const result = await nxIn(pr, readOnly, 'infra:audit');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/infra:render-crds.*\[remote cache\]/);
    expect(await tags()).toEqual(before);
    const overwrite = await fetch(`${cacheUrl}/v1/cache/${before[0]}`, { method: 'PUT', headers: { Authorization: `Bearer ${readWrite}` }, body: 'poisoned' });
    expect(overwrite.status).toBe(409);
  });

  it('no cache entry holds a secret value, though the secret was in the environment of every run', async () => {
    const out = path.join(scratch, 'entries');
    for (const tag of await tags()) {
      const entry = await fetch(`${cacheUrl}/v1/cache/${tag}`, { headers: { Authorization: `Bearer ${readOnly}` } });
      expect(entry.status).toBe(200);
      const dir = path.join(out, tag);
      await $`mkdir -p ${dir}`;
      await writeFile(`${dir}.tar.gz`, Buffer.from(await entry.arrayBuffer()));
      expect((await $({ nothrow: true })`tar -xzf ${`${dir}.tar.gz`} -C ${dir}`).exitCode).toBe(0);
    }
    const files = (await readdir(out, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(2);
    for (const file of files) expect(await readFile(path.join(file.parentPath, file.name), 'utf8'), file.name).not.toContain(sentinel);
  });
});
