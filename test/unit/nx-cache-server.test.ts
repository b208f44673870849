import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheServer } from '../../scripts/nx-cache/server.ts';
import type { OciStore } from '../../scripts/nx-cache/oci-store.ts';

// The HTTP contract Nx's client relies on, over an in-memory store (the registry store is e2e).
const entries = new Map<string, Buffer>();
const store: OciStore = { has: async (h) => entries.has(h), get: async (h) => entries.get(h), put: async (h, e) => void entries.set(h, e) };
const logged: string[] = [];
const server = cacheServer({ store, readWriteTokens: ['rw-token'], readOnlyTokens: ['ro-token'], maxEntryBytes: 1024, maxUploads: 1, idleMs: 800, uploadMs: 3000, log: (l) => logged.push(l) });
let port = 0;
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}/v1/cache`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (method: string, hash: string, token?: string, body?: string | ReadableStream) =>
  fetch(`${url}/${hash}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {}, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);

/** A raw upload that sends its headers and then `bytes` one at a time, every `everyMs`; resolves with what the server answered. */
function slowUpload(hash: string, { bytes, everyMs, length }: { bytes: number; everyMs: number; length: number }) {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  socket.write(`PUT /v1/cache/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rw-token\r\nContent-Length: ${length}\r\n\r\n`);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent++ < bytes) socket.write('x');
  }, everyMs);
  return {
    closed: new Promise<string>((resolve) => socket.on('close', () => (clearInterval(timer), resolve(answer)))),
    stop: () => (clearInterval(timer), socket.destroy()),
  };
}

describe('nx remote cache server', () => {
  it('401 in text/plain without a known token', async () => {
    const response = await call('GET', '123');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect((await call('GET', '123', 'guess')).status).toBe(401);
  });

  it('stores with a read-write token, serves with any token, never overwrites', async () => {
    expect((await call('GET', '1001', 'ro-token')).status).toBe(404);
    expect((await call('PUT', '1001', 'rw-token', 'entry-1')).status).toBe(200);
    const hit = await call('GET', '1001', 'ro-token');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('content-type')).toBe('application/octet-stream');
    expect(await hit.text()).toBe('entry-1');
    expect((await call('PUT', '1001', 'rw-token', 'poisoned')).status).toBe(409);
    expect(await (await call('GET', '1001', 'rw-token')).text()).toBe('entry-1');
  });

  it('refuses writes with a read-only token (403: Nx goes on without storing)', async () => {
    expect((await call('PUT', '1002', 'ro-token', 'x')).status).toBe(403);
    expect(entries.has('1002')).toBe(false);
  });

  it('refuses a hash that is not an Nx task hash with 400, before touching the store', async () => {
    for (const hash of ['abc', '..%2F..%2Fetc', '1'.repeat(21), '12a']) {
      const response = await call('PUT', hash, 'rw-token', 'x');
      expect(response.status).toBe(400);
      expect(await response.text()).toBe('not an Nx task hash (decimal digits)');
    }
    expect((await call('GET', '', 'rw-token')).status).toBe(400);
    expect([...entries.keys()]).toEqual(['1001']);
  });

  it('refuses an entry over the limit with 413, by Content-Length and by the streamed size', async () => {
    const declared = await call('PUT', '1003', 'rw-token', 'x'.repeat(1025));
    expect(declared.status).toBe(413);
    expect(await declared.text()).toBe('entry over the limit of 1024 bytes');
    // Chunked: no Content-Length, the size is only known while reading.
    const chunks = ['x'.repeat(600), 'x'.repeat(600)];
    const stream = new ReadableStream({ pull: (c) => (chunks.length ? c.enqueue(new TextEncoder().encode(chunks.shift()!)) : c.close()) });
    const streamed = await call('PUT', '1004', 'rw-token', stream).catch((error: unknown) => error);
    // The server answers 413 and closes; the client may see the answer or the closed socket.
    if (streamed instanceof Response) expect(streamed.status).toBe(413);
    expect(logged).toContain('PUT 1004 refused: over 1024 bytes');
    expect(entries.has('1003') || entries.has('1004')).toBe(false);
    expect((await call('PUT', '1005', 'rw-token', 'x'.repeat(1024))).status).toBe(200);
  });

  it('bounds uploads at once; a slow client (one byte every 200 ms) delays no other request and is dropped at uploadMs', async () => {
    const slow = slowUpload('1006', { bytes: 100, everyMs: 200, length: 100 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The one upload slot is taken: a second upload is not stored (403), reads go on.
    const second = await call('PUT', '1007', 'rw-token', 'y');
    expect(second.status).toBe(403);
    expect(await second.text()).toBe('not stored: 1 uploads in progress');
    for (let i = 0; i < 5; i++) expect((await call('GET', '1001', 'ro-token')).status).toBe(200);
    expect(await slow.closed).toBe('');
    expect(logged).toContain('PUT 1006 dropped: not complete after 3s');
    expect(entries.has('1006')).toBe(false);
    // The slot is free again.
    expect((await call('PUT', '1007', 'rw-token', 'y')).status).toBe(200);
  });

  it('disconnects a client that sends nothing', async () => {
    const stalled = slowUpload('1008', { bytes: 0, everyMs: 1000, length: 10 });
    expect(await stalled.closed).toBe('');
    expect((await call('PUT', '1008', 'rw-token', 'z')).status).toBe(200);
  });
});
