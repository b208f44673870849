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
  /** The documents the rewrite changed: "file (Kind name)". */
  rewritten: string[];
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

/** A change the served copy makes to some documents (their file is rewritten); `mentions` preselects the files to parse. */
export interface DocumentRewrite {
  mentions: RegExp;
  /** The document changed, or undefined when it is not one to change. */
  change(document: Record<string, unknown>): Record<string, unknown> | undefined;
}

/** SOPS-encrypted documents become placeholders (placeholderOf). */
const SOPS_PLACEHOLDERS: DocumentRewrite = { mentions: /^sops:/m, change: (document) => placeholderOf(document) };

const describe = (file: string, document: Record<string, unknown>) =>
  `${file} (${String(document['kind'])} ${String((document['metadata'] as { name?: string } | undefined)?.name)})`;

export interface CopiedTree {
  /** The documents replaced by placeholders: "file (Kind name)". */
  placeholders: string[];
  /** The documents the extra rewrite changed: "file (Kind name)". */
  rewritten: string[];
}

/**
 * Copies the folders under root into dir (a checkout's .git left out), SOPS documents replaced by
 * placeholders and, with `rewrite`, the documents it changes (e.g. GitRepositories pointed at the
 * rehearsal's server). Other files are copied byte for byte.
 */
export async function copyWithPlaceholders(root: string, folders: string[], dir: string, rewrite?: DocumentRewrite): Promise<CopiedTree> {
  const copied: CopiedTree = { placeholders: [], rewritten: [] };
  for (const folder of folders) await cp(path.join(root, folder), path.join(dir, folder), { recursive: true, filter: (from) => path.basename(from) !== '.git' });
  const rewrites = [{ rewrite: SOPS_PLACEHOLDERS, said: copied.placeholders }, ...(rewrite ? [{ rewrite, said: copied.rewritten }] : [])];
  for (const file of await filesUnder(dir)) {
    if (!/\.ya?ml$/.test(file)) continue;
    const text = await readFile(file, 'utf8');
    const wanted = rewrites.filter((r) => r.rewrite.mentions.test(text));
    if (wanted.length === 0) continue;
    let changed = false;
    const out = parseHandWrittenDocuments(text).map((parsed) => {
      const document = parsed.toJS() as Record<string, unknown>;
      for (const { rewrite: r, said } of wanted) {
        const replacement = document && typeof document === 'object' ? r.change(document) : undefined;
        if (!replacement) continue;
        changed = true;
        said.push(describe(path.relative(dir, file), replacement));
        return writeYaml(replacement);
      }
      return writeYaml(document);
    });
    if (changed) await writeFile(file, out.map((d) => `---\n${String(d)}`).join(''));
  }
  return copied;
}

const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Packs the tree as a Flux artifact and serves it on 127.0.0.1 (OCI distribution API, read-only). */
/** `scratchParent`: where the artifact is built, the rehearsal's folder (swept if the rehearsal is killed). */
export async function serveTree(root: string, folders: string[], logCluster: string, rewrite?: DocumentRewrite, scratchParent = os.tmpdir()): Promise<ServedTree> {
  const scratch = await mkdtemp(path.join(scratchParent, 'rehearsal-tree-'));
  const content = path.join(scratch, 'content');
  const { placeholders, rewritten } = await copyWithPlaceholders(root, folders, content, rewrite);
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
    rewritten,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
