// A self-hosted Nx remote cache (Nx's documented HTTP API, used by Nx's built-in client through
// NX_SELF_HOSTED_REMOTE_CACHE_SERVER / _ACCESS_TOKEN), storing entries in an OCI registry.
//   PUT /v1/cache/{hash}  read-write token: 200 stored, 409 exists (never overwritten), 403 read-only token
//   GET /v1/cache/{hash}  any token: 200 entry, 404 miss
// Tokens come from the environment and are never printed: NX_CACHE_READ_WRITE_TOKENS,
// NX_CACHE_READ_ONLY_TOKENS (comma-separated). Give pull requests read-only tokens: with
// no-overwrite that is Nx's mitigation of cache poisoning (CVE-2025-36852, "CREEP").
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
}

const HASH = /^\/v1\/cache\/([A-Za-z0-9_-]{1,128})$/;

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function cacheServer({ store, readWriteTokens, readOnlyTokens, log = () => undefined }: CacheServerOptions) {
  return createServer(async (request, response) => {
    try {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const canWrite = !!token && readWriteTokens.includes(token);
      if (!token || (!canWrite && !readOnlyTokens.includes(token))) return text(response, 401, 'missing or unknown access token');
      const hash = HASH.exec(request.url ?? '')?.[1];
      if (!hash) return text(response, 404, 'not a cache entry path');
      if (request.method === 'GET') {
        const entry = await store.get(hash);
        log(`GET ${hash} ${entry ? 'hit' : 'miss'}`);
        if (!entry) return text(response, 404, 'miss');
        return response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': entry.length }).end(entry);
      }
      if (request.method === 'PUT') {
        if (!canWrite) return text(response, 403, 'read-only token');
        const entry = await body(request);
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
      return text(response, 500, 'store failed');
    }
  });
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '15090' }, registry: { type: 'string', default: 'http://127.0.0.1:15000' }, repository: { type: 'string', default: 'nx-cache' } } });
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
    log: (line) => process.stderr.write(`[nx-cache] ${line}\n`),
  });
  // Loopback only: put a TLS reverse proxy in front to share it beyond this machine.
  server.listen(Number(values.port), '127.0.0.1', () => process.stderr.write(`[nx-cache] listening on http://127.0.0.1:${values.port}, entries in ${values.registry}/${values.repository}\n`));
}
