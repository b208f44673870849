// The tree as a Flux OCI artifact, served read-only on loopback for the rehearsal's
// source-controller: the folders Flux builds from, with every SOPS-encrypted document replaced by
// a placeholder of the same shape. No secret is decrypted, read or needed: the keys stay (postBuild
// substitution and valuesFrom see them), each value becomes "rehearsal-placeholder".
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { filesUnder } from '../runtime/input-hash.ts';
import { runTool } from '../tools/run-tool.ts';
import { parseHandWrittenDocuments, writeYaml } from '../runtime/yaml.ts';

export const PLACEHOLDER = 'rehearsal-placeholder';

/** Flux's media types (fluxcd/pkg/oci): source-controller extracts the layer of this type. */
const CONFIG_TYPE = 'application/vnd.cncf.flux.config.v1+json';
const CONTENT_TYPE = 'application/vnd.cncf.flux.content.v1.tar+gzip';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface ServedTree {
  /** oci://127.0.0.1:PORT/tree, for an OCIRepository with insecure: true and any ref.tag. */
  url: string;
  /** The documents that were replaced by placeholders: "file (Kind name)". */
  placeholders: string[];
  stop(): Promise<void>;
}

/** A SOPS-encrypted document with its values replaced; undefined when it is not encrypted. */
export function placeholderOf(document: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!document || typeof document !== 'object' || !('sops' in document)) return undefined;
  const { sops: _sops, ...rest } = document;
  const replace = (values: unknown, encode: boolean) =>
    values && typeof values === 'object'
      ? Object.fromEntries(Object.keys(values).map((key) => [key, encode ? Buffer.from(PLACEHOLDER).toString('base64') : PLACEHOLDER]))
      : values;
  return {
    ...rest,
    ...('data' in rest ? { data: replace(rest['data'], rest['kind'] === 'Secret') } : {}),
    ...('stringData' in rest ? { stringData: replace(rest['stringData'], false) } : {}),
  };
}

/** Copies the folders under root into dir (a checkout's .git left out), SOPS documents replaced; returns what was replaced. */
export async function copyWithPlaceholders(root: string, folders: string[], dir: string): Promise<string[]> {
  const replaced: string[] = [];
  for (const folder of folders) await cp(path.join(root, folder), path.join(dir, folder), { recursive: true, filter: (from) => path.basename(from) !== '.git' });
  for (const file of await filesUnder(dir)) {
    if (!/\.ya?ml$/.test(file)) continue;
    const text = await readFile(file, 'utf8');
    if (!/^sops:/m.test(text)) continue;
    let changed = false;
    const out = parseHandWrittenDocuments(text).map((document) => {
      const placeholder = placeholderOf(document.toJS() as Record<string, unknown>);
      if (!placeholder) return writeYaml(document.toJS());
      changed = true;
      replaced.push(`${path.relative(dir, file)} (${String(placeholder['kind'])} ${String((placeholder['metadata'] as { name?: string } | undefined)?.name)})`);
      return writeYaml(placeholder);
    });
    if (changed) await writeFile(file, out.map((d) => `---\n${String(d)}`).join(''));
  }
  return replaced;
}

const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Packs the tree as a Flux artifact and serves it on 127.0.0.1 (OCI distribution API, read-only). */
export async function serveTree(root: string, folders: string[], logCluster: string): Promise<ServedTree> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'rehearsal-tree-'));
  const content = path.join(scratch, 'content');
  const placeholders = await copyWithPlaceholders(root, folders, content);
  const archive = path.join(scratch, 'tree.tar.gz');
  await runTool({
    tool: 'tar',
    args: ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', archive, '-C', content, '.'],
    cluster: logCluster,
    logName: 'rehearsal-tree-tar',
    subject: `the GitOps tree under ${root}`,
    fix: 'check that the folders exist and are readable',
  });
  const layer = await readFile(archive);
  const config = Buffer.from('{}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: CONFIG_TYPE, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: CONTENT_TYPE, digest: digestOf(layer), size: layer.length }],
      annotations: { 'org.opencontainers.image.source': 'cluster-bootstrap rehearsal', 'org.opencontainers.image.revision': `local@${digestOf(layer)}` },
    }),
  );
  const blobs = new Map([[digestOf(config), config], [digestOf(layer), layer]]);
  const manifestDigest = digestOf(manifest);

  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    const send = (status: number, body: Buffer, type: string, digest?: string) => {
      response.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, ...(digest ? { 'Docker-Content-Digest': digest } : {}) });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (url === '/v2/' || url === '/v2') return send(200, Buffer.from('{}'), 'application/json');
    const wanted = /^\/v2\/tree\/manifests\/(.+)$/.exec(url)?.[1];
    // Any tag (the FluxInstance's sync.ref) names the one artifact.
    if (wanted === manifestDigest || (wanted && !wanted.startsWith('sha256:'))) return send(200, manifest, MANIFEST_TYPE, manifestDigest);
    const blob = blobs.get(/^\/v2\/tree\/blobs\/(.+)$/.exec(url)?.[1] ?? '');
    if (blob) return send(200, blob, 'application/octet-stream', digestOf(blob));
    return send(404, Buffer.from('{"errors":[{"code":"NOT_FOUND"}]}'), 'application/json');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `oci://127.0.0.1:${port}/tree`,
    placeholders,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
