// One way to run an external tool: arguments as an array (never a shell string), stdin as data,
// and one failure shape: the last lines of what the tool said, its full output in a log file
// under .logs/, and the fix. A failure is always an error, never an empty result.
import { $ } from 'zx';
import { BootstrapError } from './errors.ts';
import { saveToolLog, tail } from './tool-log.ts';

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
}

/** Runs the tool and returns its stdout; throws a BootstrapError naming the subject and the log on failure. */
export async function runTool({ tool, args, input, env, cwd, cluster, logName, subject, action, summarize, fix }: ToolRun): Promise<string> {
  const output = await $({ quiet: true, nothrow: true, input, env, cwd })`${tool} ${args}`;
  if (output.exitCode === 0) return output.stdout;
  const missing = output.exitCode === 127 || /ENOENT|not found/.test(output.stderr.split('\n')[0] ?? '');
  if (missing) {
    throw new BootstrapError({ subject: tool, problem: 'is not installed or not on PATH', fix: 'run scripts/build-tools.sh (builds the pinned tools into .tools/bin)' });
  }
  const log = await saveToolLog(cluster, logName, `${tool} ${args.join(' ')}\n\n${output.stdout}\n${output.stderr}`);
  throw new BootstrapError({
    subject: typeof subject === 'function' ? subject(output.stderr) : subject,
    problem: `${action ?? tool} failed (exit ${output.exitCode}):\n${summarize ? `    ${summarize(output.stderr)}` : tail(output.stderr)}\n    (full output: ${log})`,
    fix,
  });
}
