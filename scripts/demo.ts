// npm run demo: start the sandbox, bootstrap every cluster with Nx, print a per-phase summary.
import { readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { createLogger } from '../tasks/lib/runtime/log.ts';
import { paths, workspaceRoot } from '../tasks/lib/runtime/workspace.ts';
import { sandboxClusters } from './sandbox/clusters.ts';
import { withThrowawaySecrets } from './sandbox/throwaway-secrets.ts';

const log = createLogger(process.stderr, '[demo] ');
const phases = ['prereqs', 'render-crds', 'crds', 'core', 'verify'];

async function main(): Promise<number> {
  const started = Date.now();
  await $({ stdio: 'inherit', cwd: workspaceRoot })`node scripts/sandbox.ts up`;
  const clusters = await sandboxClusters();

  // Secrets come from the environment; the demo invents throwaway values for any that are unset.
  const { env, invented } = withThrowawaySecrets(clusters, { ...process.env, NX_DAEMON: 'false' });
  for (const name of invented) log.info(`${name} is unset: using a throwaway random value for the demo`);
  const timings = path.join(paths.sandbox, 'demo-timings.jsonl');
  await rm(timings, { force: true });
  env['BOOTSTRAP_TIMINGS_FILE'] = timings;

  const projects = clusters.map((c) => c.name);
  log.action(`nx run-many -t bootstrap -p ${projects.join(',')}`);
  const run = await $({ stdio: 'inherit', env, cwd: workspaceRoot, nothrow: true })`nx run-many -t bootstrap -p ${projects.join(',')} --outputStyle=stream`;

  const records = existsSync(timings)
    ? (await readFile(timings, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cluster: string; phase: string; seconds: number })
    : [];
  process.stdout.write(`\n${'phase'.padEnd(13)}${projects.map((p) => p.padStart(12)).join('')}\n`);
  for (const phase of phases) {
    const cells = projects.map((cluster) => {
      const record = records.find((r) => r.cluster === cluster && r.phase === phase);
      return (record ? `${record.seconds.toFixed(1)}s` : phase === 'render-crds' && run.exitCode === 0 ? 'cached' : '-').padStart(12);
    });
    process.stdout.write(`${phase.padEnd(13)}${cells.join('')}\n`);
  }
  process.stdout.write(`total ${((Date.now() - started) / 1000).toFixed(1)}s (including sandbox start)\n\n`);

  if (run.exitCode !== 0) {
    log.failure('bootstrap failed: see the phase output above; fix it and rerun npm run demo (finished phases are fast no-ops)');
    return 1;
  }
  log.success(`bootstrapped ${projects.join(' and ')}`);
  log.info(`inspect: KUBECONFIG=.sandbox/kubeconfig .tools/bin/kubectl --context kwok-${projects[0]} get crds,fluxinstances -A`);
  log.info(`status:  npm run sandbox -- status`);
  log.info(`stop:    npm run sandbox -- down`);
  return 0;
}

process.exitCode = await main();
