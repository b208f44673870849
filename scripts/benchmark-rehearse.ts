// The live rehearsal (rehearse) beside the static prediction (audit) on the example tree, in one
// run: wall time and the peak memory of everything each started (the throwaway cluster's kwok
// components included), with rehearse's own breakdown (plane, bootstrap phases, Flux).
//   node scripts/benchmark-rehearse.ts      (needs the built tools and the sandbox's registry)
import path from 'node:path';
import { paths, workspaceRoot } from '../tasks/lib/runtime/workspace.ts';
import { measureTree } from './bench/tree-memory.ts';

const env = { ...process.env, PATH: `${path.join(workspaceRoot, 'node_modules', '.bin')}:${paths.toolsBin}:${process.env['PATH']}` };
const run = (task: string, extra: string[] = []) =>
  measureTree('node', [`tasks/${task}.ts`, '--cluster', 'infra', '--json', ...extra], { cwd: workspaceRoot, env, marks: /\/rehearse-infra-/ });

export async function benchmarkRehearse(): Promise<void> {
  const audit = await run('audit');
  const rehearse = await run('rehearse', ['--timeout', '300']);
  for (const [name, m] of [['audit', audit], ['rehearse', rehearse]] as const) {
    if (m.code !== 0) throw new Error(`${name} exited ${m.code}:\n${m.stderr.slice(-2000)}`);
}
const report = JSON.parse(rehearse.stdout) as { verdicts: unknown[]; timings: { planeSeconds: number; bootstrapSeconds: number; fluxSeconds: number } };
const rows = [
  ['audit (static prediction)', `${audit.seconds.toFixed(1)} s`, `${audit.peakMiB.toFixed(0)} MiB`, ''],
  [
    `rehearse (Flux, ${report.verdicts.length} Kustomizations Ready)`,
    `${rehearse.seconds.toFixed(1)} s`,
    `${rehearse.peakMiB.toFixed(0)} MiB`,
    `plane ${report.timings.planeSeconds.toFixed(1)} s, bootstrap ${report.timings.bootstrapSeconds.toFixed(1)} s, Flux ${report.timings.fluxSeconds.toFixed(1)} s`,
  ],
];
process.stdout.write('| run | wall | peak memory (whole tree) | breakdown |\n|---|---|---|---|\n');
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
process.stdout.write(`\nrehearse / audit: ${(rehearse.seconds / audit.seconds).toFixed(1)}x the time, ${(rehearse.peakMiB / audit.peakMiB).toFixed(1)}x the memory\n`);
}

if (import.meta.main) await benchmarkRehearse();
