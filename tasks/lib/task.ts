// What every phase script shares: typed options from argv, the cluster's config, a logger,
// and one place that turns failures into a readable message and an exit code.
import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CLUSTER_NAME, loadCluster, type ClusterConfig } from './config.ts';
import { AggregateBootstrapError, BootstrapError } from './errors.ts';
import { connect, type Kube } from './kube.ts';
import { createLogger, type Logger } from './log.ts';
import { guardIdentity } from './identity.ts';
import { endChildren } from './children.ts';
import { interruption, watchInterrupts } from './interrupt.ts';
import { acquireLease, type LeaseHold } from './lease.ts';
import { withToolsOnPath } from './tools.ts';

const SECONDS = 'must be a whole number of seconds';

const optionsSchema = z.strictObject({
  cluster: z.string().regex(CLUSTER_NAME, 'must be a cluster folder name under clusters/'),
  /** Overrides cluster.yaml's context; the identity guard still applies. */
  context: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
  // Digits only: Number() would also take 1e3, 0x10 or ' 7 '. Unset: the task's default applies
  // (core leaves helm's wait to helmfile.d's helmDefaults.timeout).
  timeout: z.string().regex(/^[1-9]\d*$/, SECONDS).transform(Number).optional(),
  allowBreaking: z.boolean().default(false),
  /** core: roll back (or uninstall) releases an interrupted helm left pending. */
  recover: z.boolean().default(false),
  /** Phases that write: wait for another run's lease (up to --timeout) instead of refusing. */
  waitForLock: z.boolean().default(false),
  /** audit: judge another checkout of the GitOps repository (a pull request's worktree, a separate repo). */
  gitopsRoot: z.string().min(1).optional(),
  /** Reports: also list what was not judged and why. */
  verbose: z.boolean().default(false),
  /** crds: have kube-apiserver judge every object of the changed CRDs before anything is written. */
  checkObjects: z.boolean().default(false),
});

export type TaskOptions = z.infer<typeof optionsSchema>;

/** The options a task may declare (every task takes --cluster). */
export type OptionName = 'context' | 'dryRun' | 'json' | 'timeout' | 'allowBreaking' | 'recover' | 'waitForLock' | 'gitopsRoot' | 'verbose' | 'checkObjects';

const flags: Record<OptionName, string> = {
  context: '--context <name>',
  dryRun: '--dry-run',
  json: '--json',
  timeout: '--timeout <seconds>',
  allowBreaking: '--allow-breaking',
  recover: '--recover',
  waitForLock: '--wait-for-lock',
  gitopsRoot: '--gitops-root <dir>',
  verbose: '--verbose',
  checkObjects: '--check-objects',
};
const ALL_OPTIONS = Object.keys(flags) as OptionName[];
const flagOf = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Waits without --timeout last this long. */
export const DEFAULT_TIMEOUT_SECONDS = 180;

export interface TaskContext {
  options: TaskOptions;
  /** --timeout, else DEFAULT_TIMEOUT_SECONDS, in milliseconds: the one conversion. */
  timeoutMs: number;
  cluster: ClusterConfig;
  log: Logger;
  /** The kube context in use: --context, else cluster.yaml's. */
  context: string;
  /** Connects lazily: offline phases (render) never need a cluster. */
  kube(): Kube;
}

function usageOf(accepted: OptionName[]): string {
  return `options: --cluster <name> ${accepted.map((o) => flags[o]).join(' ')}`.trimEnd();
}

export function parseTaskOptions(argv: string[], accepted: OptionName[] = ALL_OPTIONS, task = 'this task'): TaskOptions {
  const usage = usageOf(accepted);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        cluster: { type: 'string' },
        context: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
        'allow-breaking': { type: 'boolean' },
        recover: { type: 'boolean' },
        'wait-for-lock': { type: 'boolean' },
        'gitops-root': { type: 'string' },
        verbose: { type: 'boolean' },
        'check-objects': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (cause) {
    throw new BootstrapError({
      subject: 'command line',
      problem: cause instanceof Error ? cause.message : String(cause),
      fix: usage,
      cause,
    });
  }
  const given = Object.keys(values).map((flag) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  const refused = given.find((name) => name !== 'cluster' && !accepted.includes(name as OptionName));
  if (refused) {
    throw new BootstrapError({ subject: `option ${flagOf(refused)}`, problem: `is not an option of ${task}`, fix: `${task} takes ${usage.replace('options: ', '')}` });
  }
  const result = optionsSchema.safeParse(
    {
      cluster: values.cluster,
      context: values.context,
      dryRun: values['dry-run'],
      json: values.json,
      timeout: values.timeout,
      allowBreaking: values['allow-breaking'] ?? process.env['BOOTSTRAP_ALLOW_BREAKING'] === '1',
      recover: values.recover,
      waitForLock: values['wait-for-lock'],
      gitopsRoot: values['gitops-root'],
      verbose: values.verbose,
      checkObjects: values['check-objects'],
    },
    { reportInput: true },
  );
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const flag = flagOf(String(issue.path[0] ?? 'option'));
    throw new BootstrapError({
      subject: `option ${flag}`,
      problem: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
      fix: flag === '--cluster' ? 'run through Nx (nx run <cluster>:<target>) or pass --cluster <name>' : usage,
    });
  }
  return result.data;
}

export async function createTaskContext(argv: string[], accepted: OptionName[] = ALL_OPTIONS, task?: string): Promise<TaskContext> {
  const options = parseTaskOptions(argv, accepted, task);
  const cluster = await loadCluster(options.cluster);
  const context = options.context ?? cluster.context;
  let kube: Kube | undefined;
  return {
    options,
    timeoutMs: (options.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    cluster,
    log: createLogger(process.stderr, `[${cluster.name}] `),
    context,
    kube: () => (kube ??= connect({ kubeconfigPath: cluster.kubeconfigPath, context })),
  };
}

/** When BOOTSTRAP_TIMINGS_FILE is set (the demo sets it), each phase that ran appends its duration. */
async function recordTiming(cluster: string, phase: string, seconds: number): Promise<void> {
  const file = process.env['BOOTSTRAP_TIMINGS_FILE'];
  if (file) await appendFile(file, `${JSON.stringify({ cluster, phase, seconds })}\n`);
}

export interface PhaseSpec {
  /** The options the phase takes besides --cluster; any other is an error naming these. */
  options: OptionName[];
  /**
   * The phase changes the cluster: before it runs, the runner proves the context reaches the
   * cluster cluster.yaml pins (identity guard) and takes the cluster's lease (one writer at a time).
   */
  writes?: boolean;
  /** The phase reads a cluster: the identity guard runs first (no lease). */
  guarded?: boolean;
}

/** Runs a phase as a CLI: failures print one readable message (never a stack or raw API dump). */
export async function runPhase(name: string, phase: (ctx: TaskContext) => Promise<void>, spec: PhaseSpec): Promise<void> {
  const options: OptionName[] = spec.writes ? [...new Set<OptionName>([...spec.options, 'context', 'timeout', 'waitForLock'])] : spec.options;
  await runCli(name, 1, options, async (ctx) => {
    const started = Date.now();
    let hold: LeaseHold | undefined;
    if (spec.writes || spec.guarded) await guardIdentity(ctx.kube(), ctx.cluster);
    if (spec.writes) {
      hold = await acquireLease(ctx.kube(), name, ctx.cluster.name, {
        wait: ctx.options.waitForLock,
        timeoutMs: ctx.timeoutMs,
        onTakeover: (holder, why) => ctx.log.warning(`took over the cluster's Lease from ${holder}: ${why}`),
      });
    }
    try {
      await phase(ctx);
    } finally {
      await hold?.release();
    }
    const seconds = (Date.now() - started) / 1000;
    ctx.log.success(`${name} done in ${seconds.toFixed(1)}s`);
    await recordTiming(ctx.cluster.name, name, seconds);
    return 0;
  });
}

/** Report exit codes (plan, audit, drift): 0 clean, 1 findings, 2 error. */
export const ReportExit = { clean: 0, findings: 1, error: 2 } as const;

/** What a report found: the data for --json, the text for people, and whether it is clean. */
export interface ReportResult {
  json: object;
  text: string;
  clean: boolean;
}

/**
 * Runs a read-only report as a CLI. The runner prints it (JSON with --json, else the text, on
 * stdout) and maps it to the exit code: 0 clean, 1 findings, 2 error.
 */
export async function runReport(
  name: string,
  report: (ctx: TaskContext) => Promise<ReportResult>,
  { options = ['context'], guarded = false }: { options?: OptionName[]; guarded?: boolean } = {},
): Promise<void> {
  await runCli(name, ReportExit.error, [...options, 'json'], async (ctx) => {
    // A report that reads a cluster reads the pinned one: the same guard as for writes.
    if (guarded) await guardIdentity(ctx.kube(), ctx.cluster);
    return printReport(await report(ctx), ctx.options.json, { cluster: ctx.cluster.name });
  });
}

async function runCli(name: string, errorExit: number, options: OptionName[], body: (ctx: TaskContext) => Promise<number>): Promise<void> {
  await runCommand(name, errorExit, async () => body(await createTaskContext(process.argv.slice(2), options, name)), { stopsSafely: true });
}

/**
 * Any CLI of the workspace (phases, reports, compare-bundles, the sandbox): the built tools on
 * PATH, clean interrupts, and one rule for errors: a BootstrapError prints its subject, problem
 * and fix; anything else is a bug and prints its stack. Sets the exit code, never exits.
 */
export async function runCommand(name: string, errorExit: number, body: () => Promise<number>, { stopsSafely = false } = {}): Promise<void> {
  withToolsOnPath();
  // Only tasks that check for an interruption between writes defer Ctrl-C; others stop at once.
  watchInterrupts({ deferWrites: stopsSafely });
  try {
    process.exitCode = await body();
  } catch (error) {
    process.exitCode = (error instanceof BootstrapError ? error.exitCode : undefined) ?? errorExit;
    if (error instanceof BootstrapError || error instanceof AggregateBootstrapError) {
      process.stderr.write(`✗ ${name} failed: ${error.message}\n`);
    } else {
      process.stderr.write(`✗ ${name} failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  } finally {
    // A failure leaves no child behind (a parallel render or pull still running, say).
    endChildren('SIGKILL');
  }
  // Stopped by a signal: exit now rather than wait for open connections to close.
  if (interruption()) process.exit(process.exitCode);
}

/** Prints a report as JSON or text and returns its exit code (0 clean, 1 findings). */
export function printReport(result: ReportResult, json: boolean, extra: object = {}): number {
  process.stdout.write(json ? `${JSON.stringify({ ...extra, ...result.json }, null, 2)}\n` : `${result.text}\n`);
  return result.clean ? ReportExit.clean : ReportExit.findings;
}
