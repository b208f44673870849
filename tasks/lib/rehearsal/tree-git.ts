// Git repositories served read-only over git's smart HTTP on 127.0.0.1, for a rehearsal whose
// FluxInstance syncs a GitRepository: source-controller clones them as it would clone GitHub.
// Each repository is one throwaway commit of a tree as it is on disk (SOPS documents replaced by
// placeholders, tree-artifact.ts), on branch main. git's own http-backend answers (as a CGI
// program behind Node's http server): only fetches, never a push.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BootstrapError } from '../runtime/errors.ts';
import { runTool } from '../tools/run-tool.ts';
import { copyWithPlaceholders, type DocumentRewrite } from './tree-artifact.ts';

export interface GitRepositoryToServe {
  /** The URL path's name: http://127.0.0.1:PORT/<name>.git */
  name: string;
  root: string;
  /** Folders under root to commit; ['.'] for all of it. */
  folders: string[];
  /** The ref the GitRepository asks for (e.g. refs/heads/main, refs/tags/v1): it names the commit too. */
  ref?: string;
}

export interface ServedGit {
  /** http://127.0.0.1:PORT/<name>.git per repository name. */
  urls: Map<string, string>;
  /** The commit each repository serves on main. */
  revisions: Map<string, string>;
  placeholders: string[];
  /** The documents `rewriteFor` changed: "file (Kind name)". */
  rewritten: string[];
  listener: string;
  stop(): Promise<void>;
}

/** The only requests answered: discovery and fetch of git-upload-pack. */
const UPLOAD_PACK = /^\/([a-z0-9][a-z0-9._-]*)\.git\/(info\/refs|git-upload-pack)$/;

async function commitTree(repo: GitRepositoryToServe, bare: string, worktree: string, logCluster: string): Promise<string> {
  const git = (args: string[]) =>
    runTool({
      tool: 'git',
      args: ['--git-dir', bare, '--work-tree', worktree, '-c', 'user.name=rehearsal', '-c', 'user.email=rehearsal@127.0.0.1', ...args],
      cluster: logCluster,
      logName: `rehearsal-git-${repo.name}`,
      subject: `the tree under ${repo.root}, served as git repository ${repo.name}`,
      fix: 'check that the folders exist and are readable',
    });
  await runTool({ tool: 'git', args: ['init', '-q', '--bare', '-b', 'main', bare], cluster: logCluster, logName: `rehearsal-git-${repo.name}`, subject: `git repository ${repo.name}`, fix: 'check that git is installed' });
  await git(['add', '-A', '.']);
  await git(['commit', '-q', '--no-gpg-sign', '-m', 'rehearsal: the tree as it is on disk']);
  if (repo.ref?.startsWith('refs/') && repo.ref !== 'refs/heads/main') await git(['update-ref', repo.ref, 'HEAD']);
  return (await git(['rev-parse', 'HEAD'])).trim();
}

/** Runs git http-backend for one request (RFC 3875 CGI): request body in, CGI headers and body out. */
function answer(projectRoot: string, request: http.IncomingMessage, response: http.ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const wanted = UPLOAD_PACK.exec(url.pathname);
  const allowed = wanted && (wanted[2] === 'info/refs' ? request.method === 'GET' && url.searchParams.get('service') === 'git-upload-pack' : request.method === 'POST');
  if (!allowed) {
    response.writeHead(403, { 'Content-Type': 'text/plain' }).end('read-only: git-upload-pack only\n');
    return;
  }
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env['PATH'],
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: request.method,
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: request.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  request.pipe(backend.stdin);
  let head = Buffer.alloc(0);
  let headerDone = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) return void response.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headerDone = true;
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    response.write(head.subarray(end + 4));
  });
  backend.on('close', (code) => {
    if (!headerDone) response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`git http-backend exited ${code}\n`);
    else response.end();
  });
  backend.on('error', () => response.headersSent || response.writeHead(500).end());
}

/**
 * Commits each tree into a bare repository and serves them all on one loopback port. The server
 * listens before anything is committed, so that `rewriteFor` can point the trees' own documents
 * (GitRepositories of other served repositories) at the URLs they are served under.
 */
export async function serveGitRepositories(
  repos: GitRepositoryToServe[],
  logCluster: string,
  rewriteFor?: (urls: Map<string, string>) => DocumentRewrite,
  /** Where the repositories are kept: the rehearsal's folder, which the next rehearsal sweeps if this one is killed. */
  scratchParent = os.tmpdir(),
): Promise<ServedGit> {
  const names = repos.map((r) => r.name);
  const invalid = names.find((n, i) => !/^[a-z0-9][a-z0-9._-]*$/.test(n) || names.indexOf(n) !== i);
  if (invalid !== undefined) {
    throw new BootstrapError({ subject: `git repository ${invalid}`, problem: 'is not a valid, unique repository name', fix: 'name each served source once, in lower case' });
  }
  const scratch = await mkdtemp(path.join(scratchParent, 'rehearsal-git-'));
  const projectRoot = path.join(scratch, 'repositories');
  const server = http.createServer((request, response) => answer(projectRoot, request, response));
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(scratch, { recursive: true, force: true });
  };
  const revisions = new Map<string, string>();
  const placeholders: string[] = [];
  const rewritten: string[] = [];
  try {
    await mkdir(projectRoot);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const urls = new Map(names.map((name) => [name, `http://127.0.0.1:${port}/${name}.git`]));
    const rewrite = rewriteFor?.(urls);
    for (const repo of repos) {
      const worktree = path.join(scratch, 'trees', repo.name);
      const copied = await copyWithPlaceholders(repo.root, repo.folders, worktree, rewrite);
      placeholders.push(...copied.placeholders);
      rewritten.push(...copied.rewritten);
      revisions.set(repo.name, await commitTree(repo, path.join(projectRoot, `${repo.name}.git`), worktree, logCluster));
    }
    return { urls, revisions, placeholders, rewritten, listener: `127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
