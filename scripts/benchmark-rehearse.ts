// The live rehearsal (rehearse) beside the static prediction (audit), in one run, on the example
// tree and on a generated tree of real size (bench/generated-tree.ts: the example plus 64 apps,
// each a HelmRelease with its own chart OCIRepository): wall time and the peak memory of
// everything each started (the throwaway cluster's kwok components included), with rehearse's
// own breakdown (plane, bootstrap phases, Flux). Goal on the real-sized tree (#34): under 3
// minutes and 3 GiB on 2 cores.
//   node scripts/benchmark-rehearse.ts      (needs the built tools and the sandbox's registry)
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { paths, workspaceRoot } from '../tasks/lib/runtime/workspace.ts';
import { measureTree, type TreeMeasure } from './bench/tree-memory.ts';
import { generateTree } from './bench/generated-tree.ts';

const env = { ...process.env, PATH: `${path.join(workspaceRoot, 'node_modules', '.bin')}:${paths.toolsBin}:${process.env['PATH']}` };
const run = (task: string, extra: string[] = []) =>
  measureTree('node', [`tasks/${task}.ts`, '--cluster', 'infra', '--json', ...extra], { cwd: workspaceRoot, env, marks: /\/rehearse-infra-/ });

interface Report {
  verdicts: Array<{ outcome: string }>;
  coverage: { kustomizations: { ready: number; total: number }; helmReleases: { installed: number; total: number } };
  timings: { planeSeconds: number; bootstrapSeconds: number; fluxSeconds: number };
}

/** What made a run fail, from its JSON report: stderr's tail rarely says (the verdicts are in the report). */
function whyFailed(stdout: string): string {
  try {
    const report = JSON.parse(stdout) as { findings?: Array<{ severity?: string }>; verdicts?: Array<{ outcome: string }>; comparison?: Array<{ agreed: boolean; accepted?: boolean; neverReached?: boolean }>; handover?: Array<{ agreed: boolean; unjudged?: boolean; note?: string }> };
    const failing = {
      findings: report.findings?.filter((f) => f.severity !== 'warn'),
      verdicts: report.verdicts?.filter((v) => v.outcome !== 'ready'),
      comparison: report.comparison?.filter((c) => !c.agreed && !c.accepted && !c.neverReached),
      handover: report.handover?.filter((h) => !h.agreed && !h.unjudged && !h.note),
    };
    return JSON.stringify(failing, null, 1);
  } catch {
    return stdout.slice(-2000);
  }
}

function checked(name: string, m: TreeMeasure): TreeMeasure {
  if (m.code !== 0) throw new Error(`${name} exited ${m.code}:\n${m.stderr.slice(-1000)}\nreport: ${whyFailed(m.stdout)}`);
  return m;
}

function rehearseRow(tree: string, m: TreeMeasure): string[] {
  const report = JSON.parse(m.stdout) as Report;
  const { kustomizations: k, helmReleases: h } = report.coverage;
  return [
    `rehearse, ${tree} (${k.ready}/${k.total} Kustomizations Ready, ${h.installed}/${h.total} HelmReleases installed)`,
    `${m.seconds.toFixed(1)} s`,
    `${m.peakMiB.toFixed(0)} MiB`,
    `plane ${report.timings.planeSeconds.toFixed(1)} s, bootstrap ${report.timings.bootstrapSeconds.toFixed(1)} s, Flux ${report.timings.fluxSeconds.toFixed(1)} s`,
  ];
}

export async function benchmarkRehearse(): Promise<void> {
  const generated = await generateTree(8, 8);
  try {
    const audit = checked('audit', await run('audit'));
    const rehearse = checked('rehearse', await run('rehearse', ['--timeout', '300']));
    const bigAudit = checked('audit of the generated tree', await run('audit', ['--gitops-root', generated.root]));
    const bigRehearse = checked('rehearse of the generated tree', await run('rehearse', ['--timeout', '600', '--gitops-root', generated.root]));
    const rows = [
      ['audit, example tree', `${audit.seconds.toFixed(1)} s`, `${audit.peakMiB.toFixed(0)} MiB`, ''],
      rehearseRow('example tree', rehearse),
      [`audit, generated tree (${generated.files} YAML files)`, `${bigAudit.seconds.toFixed(1)} s`, `${bigAudit.peakMiB.toFixed(0)} MiB`, ''],
      rehearseRow('generated tree', bigRehearse),
    ];
    process.stdout.write('| run | wall | peak memory (whole tree) | breakdown |\n|---|---|---|---|\n');
    for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
    process.stdout.write(`\nrehearse / audit, example tree: ${(rehearse.seconds / audit.seconds).toFixed(1)}x the time, ${(rehearse.peakMiB / audit.peakMiB).toFixed(1)}x the memory\n`);
    process.stdout.write(`generated / example tree, rehearse: ${(bigRehearse.seconds / rehearse.seconds).toFixed(1)}x the time, ${(bigRehearse.peakMiB / rehearse.peakMiB).toFixed(1)}x the memory\n`);
  } finally {
    if (!process.env['KEEP_BENCH_TREE']) await rm(generated.root, { recursive: true, force: true });
    else process.stdout.write(`tree kept: ${generated.root}\n`);
  }
}

if (import.meta.main) await benchmarkRehearse();
