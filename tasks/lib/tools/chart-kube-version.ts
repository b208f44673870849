// A chart's kubeVersion constraint (Chart.yaml), and whether Helm installs the chart on a
// Kubernetes minor. Helm itself judges the constraint: a probe chart that holds only that
// kubeVersion is templated with --kube-version, so Helm's own semver rules (Masterminds, with its
// pre-release handling) decide, never a re-implementation of them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BootstrapError } from '../runtime/errors.ts';
import { parseValue } from '../runtime/yaml.ts';
import { tail } from '../runtime/tool-log.ts';
import { requireTool, runTool, toolShell } from './run-tool.ts';

export interface ChartSource {
  /** oci://host/path/name: through the registry mirror already, when there is one. */
  ref: string;
  version: string;
  plainHttp: boolean;
}

/** Chart.yaml's kubeVersion, read from the registry without pulling the chart to disk. */
export async function chartKubeVersion(chart: ChartSource, clusterName: string): Promise<string | undefined> {
  const text = await runTool({
    tool: 'helm',
    args: ['show', 'chart', chart.ref, '--version', chart.version, ...(chart.plainHttp ? ['--plain-http'] : [])],
    cluster: clusterName,
    logName: 'chart-kube-version',
    subject: `chart ${chart.ref}:${chart.version}`,
    fix: 'check the chart version exists in the registry (or mirror) and is reachable',
  });
  return parseValue<{ kubeVersion?: string }>(text)?.kubeVersion || undefined;
}

/** undefined when Helm installs a chart with this constraint on the minor's first release; else what Helm said. */
export async function kubeVersionRefusal(constraint: string, minor: string): Promise<string | undefined> {
  const helm = requireTool('helm');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kube-version-probe-'));
  try {
    await writeFile(path.join(dir, 'Chart.yaml'), JSON.stringify({ apiVersion: 'v2', name: 'kube-version-probe', version: '0.0.0', kubeVersion: constraint }));
    const output = await toolShell('helm')`${helm} template probe ${dir} --kube-version ${`${minor}.0`}`;
    if (output.exitCode === 0) return undefined;
    const refusal = /chart requires kubeVersion: .*/.exec(output.stderr)?.[0];
    if (refusal) return refusal;
    throw new BootstrapError({
      subject: `kubeVersion ${constraint}`,
      problem: `helm template of a chart holding only this constraint failed:\n${tail(output.stderr)}`,
      fix: 'check that helm runs (scripts/build-tools.sh helm)',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
