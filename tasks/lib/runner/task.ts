// What every phase script shares: typed options from argv, the cluster's config, a logger,
// and one place that turns failures into a readable message and an exit code.
import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CLUSTER_NAME } from '../model/cluster-name.ts';
import { loadCluster, type ClusterConfig } from '../model/config.ts';
import { AggregateBootstrapError, BootstrapError } from '../runtime/errors.ts';
import { connect, type Kube } from '../cluster/kube.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { markdownReport, type MarkdownReport } from '../runtime/markdown.ts';
import { flagName, OPTIONS, optionsOf, type OptionName, type OptionSpec, type OptionTable } from './options.ts';
import { guardIdentity } from '../cluster/identity.ts';
import { endChildren } from '../runtime/children.ts';
import { interruption, watchInterrupts } from '../runtime/interrupt.ts';
import { acquireLease, type LeaseHold } from '../cluster/lease.ts';
import { withToolsOnPath } from '../tools/tool-identity.ts';
import { recordProof } from '../cluster/live-proof.ts';
import { isProvenPhase, PHASES, type PhaseDecl, type PhaseTable } from '../model/phases.ts';
import { LIVE_PROOF_ENV } from '../runtime/phase-process.ts';
import { writeVerdict } from './verdict.ts';

/** Parsed options: --cluster and every option of the table (tasks/lib/runner/options.ts). */
export type TaskOptions = { cluster: string } & { [K in OptionName]: z.output<(typeof OPTIONS)[K]['schema']> };
export type { OptionName };

const clusterSchema = z.string().regex(CLUSTER_NAME, 'must be a cluster folder name under clusters/');
const takesValue = (spec: OptionSpec) => spec.flag.includes('<');

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
  /**
   * Set by the rehearsal: prereqs writes this value for every key of every secret instead of
   * reading the sources cluster.yaml names (no real secret reaches a throwaway cluster).
   */
  placeholderSecrets?: string;
}

function usageOf(accepted: string[], table: OptionTable): string {
  return `options: --cluster <name> ${accepted.map((o) => table[o]!.flag).join(' ')}`.trimEnd();
}

/**
 * Parses argv against the option table: an option the task does not take is refused with the
 * list of those it does; values are validated by each option's schema.
 */
export function parseTaskOptions(argv: string[], accepted: string[] = Object.keys(OPTIONS), task = 'this task', table: OptionTable = OPTIONS): TaskOptions {
  const usage = usageOf(accepted, table);
  const names = Object.keys(table);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        cluster: { type: 'string' },
        ...Object.fromEntries(names.map((name) => [flagName(name).slice(2), { type: takesValue(table[name]!) ? ('string' as const) : ('boolean' as const) }])),
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
  const refused = given.find((name) => name !== 'cluster' && !accepted.includes(name));
  if (refused) {
    throw new BootstrapError({ subject: `option ${flagName(refused)}`, problem: `is not an option of ${task}`, fix: `${task} takes ${usage.replace('options: ', '')}` });
  }
  const schema = z.strictObject({ cluster: clusterSchema, ...Object.fromEntries(names.map((name) => [name, table[name]!.schema])) });
  const input = Object.fromEntries(
    names.map((name) => {
      const spec = table[name]!;
      const fromEnv = spec.env && process.env[spec.env] === '1' ? true : undefined;
      return [name, values[flagName(name).slice(2)] ?? fromEnv];
    }),
  );
  const result = schema.safeParse({ cluster: values['cluster'], ...input }, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const flag = flagName(String(issue.path[0] ?? 'option'));
    throw new BootstrapError({
      subject: `option ${flag}`,
      problem: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
      fix: flag === '--cluster' ? 'run through Nx (nx run <cluster>:<target>) or pass --cluster <name>' : usage,
    });
  }
  return result.data as TaskOptions;
}

export async function createTaskContext(argv: string[], accepted: string[] = Object.keys(OPTIONS), task?: string): Promise<TaskContext> {
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

/**
 * Another cluster than the task's own (drift's cross-cluster check), reached the way the runner
 * reaches the task's: its kubeconfig and context from its cluster.yaml, then the identity guard.
 */
export async function connectGuarded(cluster: ClusterConfig): Promise<Kube> {
  const kube = connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
  await guardIdentity(kube, cluster);
  return kube;
}

/** When BOOTSTRAP_TIMINGS_FILE is set (the demo sets it), each phase that ran appends its duration. */
async function recordTiming(clusterName: string, phase: string, seconds: number): Promise<void> {
  const file = process.env['BOOTSTRAP_TIMINGS_FILE'];
  if (file) await appendFile(file, `${JSON.stringify({ cluster: clusterName, phase, seconds })}\n`);
}

/**
 * A target (tasks/<name>.ts): run as its own process (`cli`, what `node tasks/<name>.ts` does) or
 * inside the batch executor's process (`execute`, tasks/executor/batch.ts), the same body either way.
 */
export interface Target {
  name: string;
  /** Runs with these arguments in this process; resolves to the exit code, never throws. */
  execute(argv: string[]): Promise<number>;
  /** As the process's command: argv from the command line, the exit code set. */
  cli(): Promise<void>;
}

function target(name: string, errorExit: number, options: string[], body: (ctx: TaskContext) => Promise<number>): Target {
  const execute = (argv: string[]) => executeCommand(name, errorExit, async () => body(await createTaskContext(argv, options, name)));
  return { name, execute, cli: () => runCommand(name, errorExit, async () => body(await createTaskContext(process.argv.slice(2), options, name)), { stopsSafely: true }) };
}

/** The table's entry for a target (tasks/lib/model/phases.ts); a target missing from it is a bug. */
function declared(name: string, table: PhaseTable): PhaseDecl {
  const phase = table[name];
  if (!phase) throw new Error(`target ${name} is not in the phase table (tasks/lib/model/phases.ts): add its entry there`);
  return phase;
}

/**
 * A phase: failures print one readable message (never a stack or raw API dump). What it may do to
 * a cluster comes from the phase table: one that writes is guarded and holds the cluster's Lease,
 * one that reads is guarded.
 */
export function phaseTarget(name: string, phase: (ctx: TaskContext) => Promise<void>, table: PhaseTable = PHASES): Target {
  const { access } = declared(name, table);
  const spec = { writes: access === 'writes', guarded: access === 'reads' };
  // The options it takes besides --cluster come from the option table; any other is an error naming these.
  return target(name, 1, optionsOf(name, { writes: spec.writes }), async (ctx) => {
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
    // Run by Nx: what the phase leaves is its proof, so that Nx replays it while nothing changes.
    if (isProvenPhase(name) && process.env[LIVE_PROOF_ENV] === '1' && !ctx.options.dryRun) {
      await recordProof(ctx.kube(), ctx.cluster, name).catch((error: unknown) =>
        ctx.log.warning(`no proof recorded (the next run does the phase again): ${error instanceof Error ? error.message : String(error)}`),
      );
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
  /** For --format markdown: the summary line, the findings as list items, sections before the details. */
  markdown: Pick<MarkdownReport, 'summary' | 'findings' | 'sections'>;
}

/** How a report prints: --json, or --format text|markdown. */
export interface ReportOutput {
  json: boolean;
  format: 'text' | 'markdown';
  /** The Markdown title, e.g. "audit infra". */
  title: string;
}

/** Refused before the report runs: a report prints one way. */
export function checkReportOutput({ json, format }: ReportOutput): void {
  if (json && format === 'markdown') {
    throw new BootstrapError({ subject: 'options --json and --format markdown', problem: 'ask for two outputs at once', fix: 'pass one of them' });
  }
}

/**
 * Runs a read-only report as a CLI. The runner prints it (JSON with --json, else the text, on
 * stdout) and maps it to the exit code: 0 clean, 1 findings, 2 error.
 */
export function reportTarget(
  name: string,
  report: (ctx: TaskContext) => Promise<ReportResult>,
  /** Whether it reads the pinned cluster: by default, the phase table's access; a function decides from the options (upgrade-check --base reads no cluster). */
  { guarded = declared(name, PHASES).access !== 'offline' }: { guarded?: boolean | ((ctx: TaskContext) => boolean) } = {},
): Target {
  return target(name, ReportExit.error, optionsOf(name), async (ctx) => {
    // A report that reads a cluster reads the pinned one: the same guard as for writes.
    const output: ReportOutput = { json: ctx.options.json, format: ctx.options.format, title: `${name} ${ctx.cluster.name}` };
    checkReportOutput(output);
    if (typeof guarded === 'function' ? guarded(ctx) : guarded) await guardIdentity(ctx.kube(), ctx.cluster);
    const result = await report(ctx);
    await writeVerdict({ target: name, cluster: ctx.cluster.name, clean: result.clean, summary: result.markdown.summary });
    const code = printReport(result, output, { cluster: ctx.cluster.name });
    return ctx.options.failOn === 'never' ? ReportExit.clean : code;
  });
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
    process.exitCode = await executeCommand(name, errorExit, body);
  } finally {
    // A failure leaves no child behind (a parallel render or pull still running, say).
    endChildren('SIGKILL');
  }
  // Stopped by a signal: exit now rather than wait for open connections to close.
  if (interruption()) process.exit(process.exitCode);
}

/** The body's exit code; an error is printed (the one rule above) and becomes its exit code. */
export async function executeCommand(name: string, errorExit: number, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof BootstrapError || error instanceof AggregateBootstrapError) {
      process.stderr.write(`✗ ${name} failed: ${error.message}\n`);
    } else {
      process.stderr.write(`✗ ${name} failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    return (error instanceof BootstrapError ? error.exitCode : undefined) ?? errorExit;
  }
}

/** Prints a report as JSON, Markdown or text and returns its exit code (0 clean, 1 findings). */
export function printReport(result: ReportResult, { json, format, title }: ReportOutput, extra: object = {}): number {
  const body = json
    ? JSON.stringify({ ...extra, ...result.json }, null, 2)
    : format === 'markdown'
      ? markdownReport({ title, clean: result.clean, text: result.text, ...result.markdown })
      : result.text;
  process.stdout.write(`${body}\n`);
  return result.clean ? ReportExit.clean : ReportExit.findings;
}
