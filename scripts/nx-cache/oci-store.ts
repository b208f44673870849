// Nx cache entries kept in an OCI registry (the store teams already run: here the sandbox's
// Debian docker-registry; in production Harbor, Zot, GHCR, …). One entry is one image manifest
// tagged with the Nx hash, whose single layer is the entry's gzipped tar.
import { createHash } from 'node:crypto';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';
const LAYER = 'application/vnd.nx.cache.entry.v1.tar+gzip';

export interface OciStore {
  has(hash: string): Promise<boolean>;
  get(hash: string): Promise<Buffer | undefined>;
  put(hash: string, entry: Buffer): Promise<void>;
}

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** registry: base URL such as http://127.0.0.1:15000; repository: e.g. nx-cache. */
export function ociStore(registry: string, repository: string, authorization?: string): OciStore {
  const base = `${registry.replace(/\/$/, '')}/v2/${repository}`;
  const headers = (extra: Record<string, string> = {}) => ({ ...(authorization ? { Authorization: authorization } : {}), ...extra });
  const fail = async (what: string, response: Response) => {
    throw new Error(`registry ${what}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
  };

  async function pushBlob(data: Buffer): Promise<string> {
    const digest = sha256(data);
    if ((await fetch(`${base}/blobs/${digest}`, { method: 'HEAD', headers: headers() })).ok) return digest;
    const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: headers() });
    if (started.status !== 202) await fail('blob upload start', started);
    const location = new URL(started.headers.get('location')!, registry);
    location.searchParams.set('digest', digest);
    const done = await fetch(location, { method: 'PUT', headers: headers({ 'Content-Type': 'application/octet-stream' }), body: data });
    if (done.status !== 201) await fail('blob upload', done);
    return digest;
  }

  return {
    async has(hash) {
      const response = await fetch(`${base}/manifests/${hash}`, { method: 'HEAD', headers: headers({ Accept: MANIFEST }) });
      return response.ok;
    },
    async get(hash) {
      const manifest = await fetch(`${base}/manifests/${hash}`, { headers: headers({ Accept: MANIFEST }) });
      if (manifest.status === 404) return undefined;
      if (!manifest.ok) await fail('manifest read', manifest);
      const { layers } = (await manifest.json()) as { layers: Array<{ digest: string }> };
      const blob = await fetch(`${base}/blobs/${layers[0]!.digest}`, { headers: headers() });
      if (!blob.ok) await fail('blob read', blob);
      const data = Buffer.from(await blob.arrayBuffer());
      if (sha256(data) !== layers[0]!.digest) throw new Error(`registry returned a blob that does not match its digest for ${hash}`);
      return data;
    },
    async put(hash, entry) {
      const config = Buffer.from('{}');
      const [configDigest, layerDigest] = [await pushBlob(config), await pushBlob(entry)];
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        artifactType: 'application/vnd.nx.cache.v1',
        config: { mediaType: EMPTY_CONFIG, digest: configDigest, size: config.length },
        layers: [{ mediaType: LAYER, digest: layerDigest, size: entry.length }],
      });
      const response = await fetch(`${base}/manifests/${hash}`, { method: 'PUT', headers: headers({ 'Content-Type': MANIFEST }), body: manifest });
      if (response.status !== 201) await fail('manifest write', response);
    },
  };
}
