// npm run gate -- <report> [--cluster <name>]…
// The gate of a cached report (audit): under Nx it ends 0 whatever it finds, so that Nx caches
// it (a failed task is never cached); its verdict is in dist/<outputs>/<cluster>/verdict.json.
// This reads the verdicts the last run left (or Nx restored from its cache) and fails the run on
// findings:  npx nx run-many -t audit && npm run gate -- audit
// Exit 0 every verdict clean, 1 findings, 2 a verdict is missing (the report has not run).
import { parseArgs } from 'node:util';
import { clusterNames } from '../tasks/lib/model/config.ts';
import { keepsVerdict, readVerdict, verdictFile } from '../tasks/lib/runner/verdict.ts';
import { ReportExit, runCommand } from '../tasks/lib/runner/task.ts';
import { BootstrapError } from '../tasks/lib/runtime/errors.ts';
import { createLogger } from '../tasks/lib/runtime/log.ts';
import { relative } from '../tasks/lib/runtime/workspace.ts';

const log = createLogger(process.stderr, '[gate] ');

await runCommand('gate', ReportExit.error, async () => {
  const { positionals, values } = parseArgs({ options: { cluster: { type: 'string', multiple: true } }, allowPositionals: true });
  const [report] = positionals;
  const usage = 'npm run gate -- <report> [--cluster <name>]… (a cached report: audit)';
  if (!report || positionals.length > 1 || !keepsVerdict(report)) {
    throw new BootstrapError({ subject: `report ${report ?? '(none)'}`, problem: report ? 'keeps no verdict (only a cached report does; the others fail the run themselves)' : 'is missing', fix: usage });
  }
  const clusters = values.cluster ?? (await clusterNames());
  let code: number = ReportExit.clean;
  for (const cluster of clusters) {
    const verdict = await readVerdict(report, cluster);
    if (!verdict) {
      throw new BootstrapError({ subject: relative(verdictFile(report, cluster)!), problem: `no verdict of ${report} for ${cluster}`, fix: `run npx nx run ${cluster}:${report} first` });
    }
    (verdict.clean ? log.success : log.failure)(`${report} ${cluster}: ${verdict.summary}`);
    if (!verdict.clean) code = ReportExit.findings;
  }
  return code;
});
