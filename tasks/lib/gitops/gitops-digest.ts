// What Nx cannot see of a GitOps tree: one that lives outside the workspace (BOOTSTRAP_GITOPS_ROOT,
// a pull request's worktree) and the local checkouts of other Flux sources (gitops.sources). The
// cached targets that read a tree take this digest as an Nx runtime input, so a changed file out
// there is a cache miss, never a replayed verdict. Light on purpose: Nx runs it on every hash.
//   node tasks/lib/gitops/gitops-digest.ts <cluster>
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseValue } from '../runtime/yaml.ts';
import { filesUnder, inputsHash } from '../runtime/input-hash.ts';
import { clusterDir, GITOPS_ROOT_ENV, workspaceRoot } from '../runtime/workspace.ts';

/** Absolute roots a tree is read from beyond the workspace's own gitops folders. */
export function externalRoots(sources: Record<string, string>, env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [env[GITOPS_ROOT_ENV], ...Object.values(sources)].filter((r): r is string => !!r);
  return [...new Set(roots.map((r) => path.resolve(workspaceRoot, r)))].sort();
}

/**
 * gitops.sources of cluster.yaml, read without the model (zod: about 0.15 s of every hash). A
 * file that does not parse or validate gives none here: the task that reads it says what is wrong.
 */
async function sourcesOf(clusterName: string): Promise<Record<string, string>> {
  const text = await readFile(path.join(clusterDir(clusterName), 'cluster.yaml'), 'utf8').catch(() => '');
  let sources: unknown;
  try {
    sources = parseValue<{ gitops?: { sources?: unknown } } | null>(text)?.gitops?.sources;
  } catch {
    return {};
  }
  if (!sources || typeof sources !== 'object') return {};
  return Object.fromEntries(Object.entries(sources).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export async function externalTreeDigest(clusterName: string): Promise<string> {
  const roots = externalRoots(await sourcesOf(clusterName));
  const files = (await Promise.all(roots.map(filesUnder))).flat().filter((f) => !f.split(path.sep).includes('.git'));
  return inputsHash(files, { roots: roots.join('\n') });
}

if (import.meta.main) process.stdout.write(`${await externalTreeDigest(process.argv[2] ?? '')}\n`);
