// A self-hosted Nx remote cache (Nx's documented HTTP API, used by Nx's built-in client through
// NX_SELF_HOSTED_REMOTE_CACHE_SERVER / _ACCESS_TOKEN), storing entries in an OCI registry.
//   PUT /v1/cache/{hash}  read-write token: 200 stored, 409 exists (never overwritten), 403 read-only token
//   GET /v1/cache/{hash}  any token: 200 entry, 404 miss
// Tokens come from the environment and are never printed: NX_CACHE_READ_WRITE_TOKENS,
// NX_CACHE_READ_ONLY_TOKENS (comma-separated). Give pull requests read-only tokens: with
// no-overwrite that is Nx's mitigation of cache poisoning (CVE-2025-36852, "CREEP").
//
//
// Limits (a cache is reachable by every CI job, so bad input must not take it down):
//   - an entry body above maxEntryBytes (default 512 MiB, --max-entry-mb) is refused with 413,
//     from its Content-Length before reading, or as soon as the streamed body passes it;
//   - a hash that is not Nx's (decimal digits, as Nx's task hasher prints them) is refused with 400;
//   - at most maxUploads (default 8, --max-uploads) PUTs are read at once; another is answered 403
//     "not stored" (Nx's client goes on without storing; any other code would fail its run);
//   - a client that sends nothing for idleMs (default 30 s) is disconnected, and an upload not
//     complete after uploadMs (default 10 min, e.g. one byte a second) is dropped: a slow or
//     stalled client holds one upload slot that long at most, and never delays other requests.
//
//   node scripts/nx-cache/server.ts --port 15090 --registry http://127.0.0.1:15000 [--repository nx-cache]
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { ociStore, type OciStore } from './oci-store.ts';

export interface CacheServerOptions {
  store: OciStore;
  readWriteTokens: string[];
  readOnlyTokens: string[];
  log?: (line: string) => void;
  maxEntryBytes?: number;
  maxUploads?: number;
  idleMs?: number;
  uploadMs?: number;
}

export const DEFAULT_LIMITS = { maxEntryBytes: 512 * 1024 * 1024, maxUploads: 8, idleMs: 30_000, uploadMs: 600_000 };

const PATH = /^\/v1\/cache\/([^/?#]*)$/;
/** Nx's task hashes: a 64-bit hash printed in decimal. */
const NX_HASH = /^\d{1,20}$/;

class TooLarge extends Error {}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);
}

async function body(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function cacheServer({ store, readWriteTokens, readOnlyTokens, log = () => undefined, ...limits }: CacheServerOptions) {
  const { maxEntryBytes, maxUploads, idleMs, uploadMs } = { ...DEFAULT_LIMITS, ...limits };
  let uploads = 0;
  const server = createServer(async (request, response) => {
    try {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const canWrite = !!token && readWriteTokens.includes(token);
      if (!token || (!canWrite && !readOnlyTokens.includes(token))) return text(response, 401, 'missing or unknown access token');
      const hash = PATH.exec(request.url ?? '')?.[1];
      if (hash === undefined) return text(response, 404, 'not a cache entry path');
      if (!NX_HASH.test(hash)) return text(response, 400, 'not an Nx task hash (decimal digits)');
      if (request.method === 'GET') {
        const entry = await store.get(hash);
        log(`GET ${hash} ${entry ? 'hit' : 'miss'}`);
        if (!entry) return text(response, 404, 'miss');
        return response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': entry.length }).end(entry);
      }
      if (request.method === 'PUT') {
        if (!canWrite) return text(response, 403, 'read-only token');
        if (Number(request.headers['content-length'] ?? 0) > maxEntryBytes) return refuseTooLarge(request, response, maxEntryBytes, log, hash);
        if (uploads >= maxUploads) {
          log(`PUT ${hash} not stored: ${uploads} uploads in progress`);
          return text(response, 403, `not stored: ${maxUploads} uploads in progress`);
        }
        uploads++;
        const dropSlow = setTimeout(() => {
          log(`PUT ${hash} dropped: not complete after ${uploadMs / 1000}s`);
          request.destroy();
        }, uploadMs);
        let entry: Buffer;
        try {
          entry = await body(request, maxEntryBytes);
        } catch (error) {
          if (error instanceof TooLarge) return refuseTooLarge(request, response, maxEntryBytes, log, hash);
          throw error;
        } finally {
          clearTimeout(dropSlow);
          uploads--;
        }
        if (await store.has(hash)) {
          log(`PUT ${hash} exists`);
          return text(response, 409, 'exists: entries are never overwritten');
        }
        await store.put(hash, entry);
        log(`PUT ${hash} stored (${entry.length} bytes)`);
        return text(response, 200, 'stored');
      }
      return text(response, 405, 'GET or PUT');
    } catch (error) {
      log(`error: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) text(response, 500, 'store failed');
    }
  });
  // A client that stops sending (one byte a minute, or nothing) is cut off after idleMs.
  server.on('connection', (socket) => socket.setTimeout(idleMs, () => socket.destroy()));
  server.headersTimeout = idleMs;
  server.requestTimeout = 0;
  return server;
}

/** 413, then close: the rest of the body is not read. */
function refuseTooLarge(request: IncomingMessage, response: ServerResponse, limit: number, log: (line: string) => void, hash: string): void {
  log(`PUT ${hash} refused: over ${limit} bytes`);
  response.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' }).end(`entry over the limit of ${limit} bytes`);
  const socket = request.socket;
  request.resume();
  response.on('finish', () => socket?.destroy());
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '15090' },
      registry: { type: 'string', default: 'http://127.0.0.1:15000' },
      repository: { type: 'string', default: 'nx-cache' },
      'max-entry-mb': { type: 'string', default: String(DEFAULT_LIMITS.maxEntryBytes / 1024 / 1024) },
      'max-uploads': { type: 'string', default: String(DEFAULT_LIMITS.maxUploads) },
    },
  });
  const tokens = (name: string) => (process.env[name] ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const readWriteTokens = tokens('NX_CACHE_READ_WRITE_TOKENS');
  if (readWriteTokens.length === 0) {
    process.stderr.write('✗ nx-cache: set NX_CACHE_READ_WRITE_TOKENS (and NX_CACHE_READ_ONLY_TOKENS for pull requests)\n');
    process.exit(2);
  }
  const server = cacheServer({
    store: ociStore(values.registry, values.repository, process.env['NX_CACHE_REGISTRY_AUTHORIZATION']),
    readWriteTokens,
    readOnlyTokens: tokens('NX_CACHE_READ_ONLY_TOKENS'),
    maxEntryBytes: Number(values['max-entry-mb']) * 1024 * 1024,
    maxUploads: Number(values['max-uploads']),
    log: (line) => process.stderr.write(`[nx-cache] ${line}\n`),
  });
  // Loopback only: put a TLS reverse proxy in front to share it beyond this machine.
  server.listen(Number(values.port), '127.0.0.1', () => process.stderr.write(`[nx-cache] listening on http://127.0.0.1:${values.port}, entries in ${values.registry}/${values.repository}\n`));
}
