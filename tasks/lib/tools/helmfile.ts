// helmfile behind a narrow typed interface. Arguments always go through zx interpolation,
// never through a hand-built command string.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { kubeconfigEnv, type ClusterTarget } from '../model/cluster-target.ts';
import { BootstrapError } from '../runtime/errors.ts';
import { duringWrite } from '../runtime/interrupt.ts';
import type { Logger } from '../runtime/log.ts';
import { stateFileLine } from '../runtime/template-line.ts';
import { gitopsRootOf, keptByHelmfileInputs } from './helmfile-inputs.ts';
import { requireTool, runTool, toolShell } from './run-tool.ts';
import { saveToolLog, tail } from '../runtime/tool-log.ts';
import { paths, relative } from '../runtime/workspace.ts';
import { loadMachineWritten } from '../runtime/yaml.ts';

export interface HelmfileRelease {
  name: string;
  namespace: string;
  enabled: boolean;
  chart: string;
  version: string;
}


/** The global arguments that select a state file, the cluster's environment and its registry mirror. */
export function helmfileArgs({ cluster, context }: ClusterTarget, stateFile: string): string[] {
  const args = ['--no-color', '--file', stateFile, '--environment', cluster.helmfile.environment, '--kube-context', context];
  // A release may read its values from the tree (parity by construction): where the tree is.
  args.push('--state-values-set', `gitopsRoot=${gitopsRootOf(cluster)}`);
  if (cluster.registryMirror) {
    // The state files prefix every chart with this value, keeping the upstream path after it.
    args.push('--state-values-set', `registryMirror=${cluster.registryMirror.host.replace(/\/*$/, '/')}`);
    args.push('--state-values-set', `registryPlainHttp=${cluster.registryMirror.plainHttp}`);
  }
  return args;
}

/** Runs helmfile on a state file; a failure names the state file's line when helmfile points at one. */
function helmfile(target: ClusterTarget, stateFile: string, action: string, args: string[], fix: string): Promise<string> {
  return runTool({
    tool: 'helmfile',
    args: [...helmfileArgs(target, stateFile), action, ...args],
    cwd: paths.helmfileDir,
    env: kubeconfigEnv(target),
    cluster: target.cluster.name,
    logName: `helmfile-${action}`,
    // A template error is reported by its line within a part of the file: name the file's line.
    subject: (stderr) => {
      const at = stateFileLine(stderr, stateFile);
      return at ? `${relative(stateFile)}:${at.line} (${at.text})` : relative(stateFile);
    },
    action: `helmfile ${action}`,
    fix,
  });
}

/** The releases of a state file as helmfile resolves them; kept by helmfile's inputs (helmfile-inputs.ts). */
export function listReleases(target: ClusterTarget, stateFile: string): Promise<HelmfileRelease[]> {
  return keptByHelmfileInputs(target.cluster, stateFile, () => listReleasesNow(target, stateFile));
}

async function listReleasesNow(target: ClusterTarget, stateFile: string): Promise<HelmfileRelease[]> {
  const stdout = await helmfile(target, stateFile, 'list', ['--output', 'json'], 'fix the state file or the environment values named above');
  const releases = JSON.parse(stdout) as Array<Record<string, unknown>>;
  return releases.map((r) => ({
    name: String(r['name']),
    namespace: String(r['namespace'] ?? ''),
    enabled: r['enabled'] !== false,
    chart: String(r['chart'] ?? ''),
    version: String(r['version'] ?? ''),
  }));
}

/**
 * Each release's values as helmfile merges them (its values files and inline values, the
 * environment's templates applied): what helm gets besides the chart's defaults. Keyed
 * <namespace>/<name>; kept by helmfile's inputs like the release list.
 */
export function releaseValues(target: ClusterTarget, stateFile: string): Promise<Record<string, Record<string, unknown>>> {
  return keptByHelmfileInputs(target.cluster, stateFile, () => releaseValuesNow(target, stateFile), 'values');
}

async function releaseValuesNow(target: ClusterTarget, stateFile: string): Promise<Record<string, Record<string, unknown>>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'helmfile-values-'));
  try {
    await helmfile(target, stateFile, 'write-values', ['--output-file-template', `${dir}/{{ .Release.Namespace }}/{{ .Release.Name }}.yaml`], 'fix the release values named above');
    const values: Record<string, Record<string, unknown>> = {};
    for (const namespace of await readdir(dir)) {
      for (const file of await readdir(path.join(dir, namespace))) {
        const text = await readFile(path.join(dir, namespace, file), 'utf8');
        values[`${namespace}/${file.replace(/\.yaml$/, '')}`] = (loadMachineWritten(text)[0] as Record<string, unknown> | null) ?? {};
      }
    }
    return values;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Renders every release into outputDir/<release>/…, tests and hooks left out.
 * One folder per release is how the render knows which release each CRD came from.
 */
export async function templateReleases(
  target: ClusterTarget,
  stateFile: string,
  outputDir: string,
  { includeCrds }: { includeCrds: boolean },
): Promise<void> {
  const crdFlags = includeCrds ? ['--include-crds'] : [];
  // Hooks are not part of a release's manifest (helm get manifest leaves them out), and the
  // Kubernetes version is the cluster's, not whatever helm was built against.
  const flags = [...crdFlags, '--skip-tests', '--no-hooks', '--kube-version', target.cluster.kubernetesVersion];
  await helmfile(target, stateFile, 'template', [...flags, '--output-dir', outputDir, '--output-dir-template', '{{ .OutputDir }}/{{ .Release.Name }}'], 'check the chart version exists in the registry (or mirror) and the values are valid');
}

/** Installs or upgrades the releases, streaming helmfile's output line by line with a prefix. */
export async function syncReleases(
  target: ClusterTarget,
  stateFile: string,
  releases: string[],
  log: Logger,
  /** undefined: helmfile.d's helmDefaults.timeout applies. */
  timeoutSeconds: number | undefined,
): Promise<void> {
  const selectors = releases.flatMap((name) => ['--selector', `name=${name}`]);
  const env = kubeconfigEnv(target);
  const binary = requireTool('helmfile', env);
  // A write: the first SIGINT/SIGTERM lets helm finish (a killed helm leaves the release pending).
  const sync = toolShell('helmfile', { cwd: paths.helmfileDir, env, write: true })`${binary} ${helmfileArgs(target, stateFile)} ${selectors} sync --skip-crds --wait ${timeoutSeconds ? ['--timeout', String(timeoutSeconds)] : []}`;
  const stderrLines: string[] = [];
  // helmfile's progress lines are passed on; from its first error on, its output is kept for the
  // error message only, so helm's error is shown once (helmfile repeats it).
  let failing = false;
  const stream = (input: NodeJS.ReadableStream, keep: boolean) =>
    new Promise<void>((resolve) => {
      const lines = readline.createInterface({ input });
      lines.on('line', (line) => {
        if (keep) stderrLines.push(line);
        failing ||= /error|failed/i.test(line);
        if (line.trim() && !failing) log.info(`helmfile: ${line}`);
      });
      lines.on('close', resolve);
    });
  await duringWrite(() => Promise.all([stream(sync.stdout, false), stream(sync.stderr, true), sync]));
  const output = await sync;
  if (output.exitCode !== 0) {
    const failed = failedRelease(stderrLines);
    const log = await saveToolLog(target.cluster.name, 'helmfile-sync', stderrLines.join('\n'));
    throw new BootstrapError({
      subject: failed ? `release "${failed}" in ${relative(stateFile)}` : relative(stateFile),
      problem: `helmfile sync failed (exit ${output.exitCode}):\n${tail(stderrLines.join('\n'))}\n    (full output: ${log})`,
      fix: syncFailureFix(stderrLines.join('\n'), target.cluster.name),
    });
  }
}

/** The fix that matches what helm said, rather than one hint for every failure. */
export function syncFailureFix(stderr: string, clusterName: string): string {
  const rerun = `nx run ${clusterName}:core --exclude-task-dependencies`;
  if (/another operation \(install\/upgrade\/rollback\) is in progress/.test(stderr)) {
    return `another helm operation holds the release: wait for a bootstrap that is still running, or, if an earlier one was interrupted, rerun with --recover (${rerun} --recover)`;
  }
  if (/already exists/.test(stderr)) {
    return `an object or release of that name already exists: another bootstrap of this cluster may be running; or an object created outside the release needs Helm's ownership labels, or removing, before ${rerun}`;
  }
  if (/timed out waiting for the condition|context deadline exceeded/.test(stderr)) {
    return `a workload of the release did not become ready in time: inspect its pods and Warning events, fix the cause, then ${rerun} (a longer --timeout only helps a slow start)`;
  }
  return `fix the release's values or chart version, then rerun: ${rerun}`;
}

/** helmfile reports failures as `in ./file: failed processing release NAME: …` or `release "NAME" failed`. */
export function failedRelease(lines: string[]): string | undefined {
  for (const line of [...lines].reverse()) {
    const match = /failed processing release ([\w.-]+)/.exec(line) ?? /release "([\w.-]+)" failed/.exec(line) ?? /release ([\w.-]+) failed/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}
