// The live state of a cluster for Nx's hash of its phases (tasks/lib/cluster/live-proof.ts): a
// token per phase that Nx has seen before only if the cluster is exactly as that phase left it.
// An Nx runtime input of prereqs, crds, core and verify; it never fails the hash: a cluster it
// cannot read gets a token of its own, so the phases run and say what is wrong.
//   node tasks/live-state.ts <cluster>
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readRecord } from './lib/cluster/live-record.ts';
import { withFileLock } from './lib/runtime/file-lock.ts';
import { invokerIdentity } from './lib/runtime/process-identity.ts';
import { paths } from './lib/runtime/workspace.ts';

/**
 * Longer than a healthy cluster needs by far; a hung API server must not hang Nx's hash. 15 s was
 * too short on a busy machine: CI (2 cores, the e2e suite running) once got an unread token for both
 * sandbox clusters, and every phase ran again where the cache should have answered.
 */
const TIMEOUT_MS = 45_000;
/**
 * Nx's second question comes within a second of its first. Outside Nx (a shell's own ancestors do
 * not change between commands) an older answer is never reused.
 */
const SAME_RUN_MS = 10_000;

const name = process.argv[2] ?? '';
const run = invokerIdentity() ?? randomUUID();

async function tokens(): Promise<string> {
  const { answered } = await readRecord(name);
  if (answered?.run === run && Date.now() - answered.at < SAME_RUN_MS) return answered.line;
  const [{ connectReader }, { liveTokens }, { loadCluster }] = await Promise.all([import('./lib/cluster/kube-config.ts'), import('./lib/cluster/live-proof.ts'), import('./lib/model/config.ts')]);
  const cluster = await loadCluster(name);
  return liveTokens(connectReader({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context }), cluster, run);
}

// Nx 24 asks twice in one run, at the same time (two hashers): one at a time, and the run's first
// answer stands, as Nx's own runtime cache would keep it, without loading the client again.
const once = () =>
  withFileLock(path.join(paths.dist, 'live', `${name}.lock`), tokens, { what: `the live state of ${name}`, timeoutMs: TIMEOUT_MS, onWait: () => {}, onTakeover: () => {}, intervalMs: 20 });

const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(`unread-${randomUUID()} (timed out)`), TIMEOUT_MS).unref());
const line = await Promise.race([once(), timeout]).catch(() => `unread-${randomUUID()}`);
process.stdout.write(`${line}\n`);
process.exit(0);
