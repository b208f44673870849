import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheServer } from '../../scripts/nx-cache/server.ts';
import type { OciStore } from '../../scripts/nx-cache/oci-store.ts';

// The HTTP contract Nx's client relies on, over an in-memory store (the registry store is e2e).
const entries = new Map<string, Buffer>();
const store: OciStore = { has: async (h) => entries.has(h), get: async (h) => entries.get(h), put: async (h, e) => void entries.set(h, e) };
const server = cacheServer({ store, readWriteTokens: ['rw-token'], readOnlyTokens: ['ro-token'] });
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/cache`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (method: string, hash: string, token?: string, body?: string) =>
  fetch(`${url}/${hash}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {}, body });

describe('nx remote cache server', () => {
  it('401 in text/plain without a known token', async () => {
    const response = await call('GET', 'abc');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect((await call('GET', 'abc', 'guess')).status).toBe(401);
  });

  it('stores with a read-write token, serves with any token, never overwrites', async () => {
    expect((await call('GET', 'h1', 'ro-token')).status).toBe(404);
    expect((await call('PUT', 'h1', 'rw-token', 'entry-1')).status).toBe(200);
    const hit = await call('GET', 'h1', 'ro-token');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('content-type')).toBe('application/octet-stream');
    expect(await hit.text()).toBe('entry-1');
    expect((await call('PUT', 'h1', 'rw-token', 'poisoned')).status).toBe(409);
    expect(await (await call('GET', 'h1', 'rw-token')).text()).toBe('entry-1');
  });

  it('refuses writes with a read-only token (403: Nx goes on without storing)', async () => {
    expect((await call('PUT', 'h2', 'ro-token', 'x')).status).toBe(403);
    expect(entries.has('h2')).toBe(false);
  });
});
