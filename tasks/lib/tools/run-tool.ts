// One way to run an external tool: arguments as an array (never a shell string), stdin as data,
// in a process group of its own (children.ts), and one failure shape: the last lines of what the
// tool said, its full output in a log file under .logs/, and the fix. A failure is always an
// error, never an empty result. A missing tool is known from PATH before anything is spawned,
// never guessed from what a tool printed ("not found" is also what helm says of a missing chart).
import { $ } from 'zx';
import { groupSpawn, resolveTool } from '../runtime/children.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { duringWrite } from '../runtime/interrupt.ts';
import { saveToolLog, tail } from '../runtime/tool-log.ts';

export interface ToolRun {
  tool: string;
  args: string[];
  /** Written to the tool's stdin. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** For the log file: .logs/<cluster>/<logName>.log ("sandbox" for the sandbox's own tools). */
  cluster: string;
  logName: string;
  /** What the error names (a file, a release, a Kustomization), or how to find it in what the tool said. */
  subject: string | ((stderr: string) => string);
  /** What failed, for the message (default: "<tool> failed"). */
  action?: string;
  /** What the tool said, shortened for the message (default: its last distinct stderr lines). */
  summarize?: (stderr: string) => string;
  fix: string;
  /** The tool changes a cluster (helm rollback): the first SIGINT/SIGTERM lets it finish. */
  write?: boolean;
}

const BUILD_HINT = 'run scripts/build-tools.sh (builds the pinned tools into .tools/bin)';

/** The tool's absolute path; a BootstrapError naming it when it is not on PATH. */
export function requireTool(tool: string, env: NodeJS.ProcessEnv = process.env, fix = BUILD_HINT): string {
  const found = resolveTool(tool, env);
  if (!found) throw new BootstrapError({ subject: tool, problem: 'is not installed or not on PATH', fix });
  return found;
}

/**
 * zx, with the tool in a process group the runner ends on exit, a signal or a failure.
 * `write`: the tool changes a cluster and is let finish on the first SIGINT/SIGTERM.
 */
export function toolShell(tool: string, options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; write?: boolean } = {}) {
  const { write = false, ...rest } = options;
  return $({ quiet: true, nothrow: true, ...rest, spawn: groupSpawn(tool, write) });
}

/** Runs the tool and returns its stdout; throws a BootstrapError naming the subject and the log on failure. */
export async function runTool({ tool, args, input, env, cwd, cluster, logName, subject, action, summarize, fix, write = false }: ToolRun): Promise<string> {
  const binary = requireTool(tool, env ?? process.env);
  const run = () => toolShell(tool, { input, env, cwd, write })`${binary} ${args}`;
  const output = await (write ? duringWrite(run) : run());
  if (output.exitCode === 0) return output.stdout;
  const log = await saveToolLog(cluster, logName, `${tool} ${args.join(' ')}\n\n${output.stdout}\n${output.stderr}`);
  throw new BootstrapError({
    subject: typeof subject === 'function' ? subject(output.stderr) : subject,
    problem: `${action ?? tool} failed (${output.exitCode === null ? `ended by ${output.signal ?? 'a signal'}` : `exit ${output.exitCode}`}):\n${summarize ? `    ${summarize(output.stderr)}` : tail(output.stderr)}\n    (full output: ${log})`,
    fix,
  });
}
