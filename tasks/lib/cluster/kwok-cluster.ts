// A kwok cluster on loopback: a real etcd, kube-apiserver, controller-manager and scheduler (built
// from upstream) run by kwokctl as host processes, with kwok simulating nodes and pods. The sandbox
// keeps two for good; the rehearsal makes one for a run and deletes it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { applyAll } from './apply.ts';
import { connect, type Kube } from './kube.ts';
import { parseManifests } from '../runtime/manifests.ts';
import { paths } from '../runtime/workspace.ts';
import { runTool } from '../tools/run-tool.ts';

/** Loopback-only listeners and addresses for every kwok cluster (see the file's comments). */
export const kwokctlConfig = path.join(import.meta.dirname, 'kwokctl-config.yaml');

export interface KwokClusterSpec {
  name: string;
  apiServerPort: number;
  nodes: number;
  /** kwokctl writes the cluster's context (kwok-<name>) into this kubeconfig. */
  kubeconfig: string;
  /** Where kwokctl keeps its clusters (KWOK_WORKDIR). */
  workdir: string;
  /** Names the tool logs (dist/logs/<logCluster>/). */
  logCluster: string;
}

const tool = (name: string) => path.join(paths.toolsBin, name);

export function kwokEnv(workdir: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${paths.toolsBin}${path.delimiter}${process.env['PATH'] ?? ''}`, KWOK_WORKDIR: workdir };
}

export async function createKwokCluster(spec: KwokClusterSpec, fix: string): Promise<Kube> {
  const args = [
    ['--name', spec.name],
    ['--runtime', 'binary'],
    ['--kube-apiserver-binary', tool('kube-apiserver')],
    ['--kube-controller-manager-binary', tool('kube-controller-manager')],
    ['--kube-scheduler-binary', tool('kube-scheduler')],
    ['--kwok-controller-binary', tool('kwok')],
    ['--etcd-binary', tool('etcd')],
    ['--kube-apiserver-port', String(spec.apiServerPort)],
    ['--kubeconfig', spec.kubeconfig],
    ['--enable-crds', 'Stage'],
    ['--wait', '120s'],
  ].flat();
  await kwokctl(spec, ['--config', kwokctlConfig, 'create', 'cluster', ...args], fix);
  const kube = connect({ kubeconfigPath: spec.kubeconfig, context: `kwok-${spec.name}` });
  // With Stage objects enabled kwok loads no default Stages: apply node and pod ones ourselves.
  const stages = parseManifests(await readFile(path.join(import.meta.dirname, 'kwok-default-stages.yaml'), 'utf8'), 'kwok-default-stages.yaml');
  await applyAll(kube, stages);
  // kwokctl's node template defaults to 192.0.2.x node addresses and 10.0.0.x pod CIDRs: keep
  // both on loopback too (pods take their IPs from their node's podCIDR).
  const loopbackNodes = ['--param', '.nodeIPs=["127.66.0.1"]', '--param', '.podCIDRs=["127.65.0.0/24"]'];
  await kwokctl(spec, ['scale', 'node', '--name', spec.name, '--replicas', String(spec.nodes), ...loopbackNodes], fix);
  return kube;
}

export async function deleteKwokCluster(spec: Pick<KwokClusterSpec, 'name' | 'kubeconfig' | 'workdir' | 'logCluster'>, fix: string): Promise<void> {
  await kwokctl(spec, ['delete', 'cluster', '--name', spec.name, '--kubeconfig', spec.kubeconfig], fix);
}

/** kwokctl through the one tool runner: its JSON log lines are summarized by their last error. */
export function kwokctl(spec: Pick<KwokClusterSpec, 'name' | 'workdir' | 'logCluster'>, args: string[], fix: string): Promise<string> {
  return runTool({
    tool: 'kwokctl',
    args,
    env: kwokEnv(spec.workdir),
    cluster: spec.logCluster,
    logName: `kwokctl-${args.find((a) => !a.startsWith('-') && a !== kwokctlConfig)}-${spec.name}`,
    subject: `kwok cluster ${spec.name}`,
    action: `kwokctl ${args.filter((a) => /^[a-z]+$/.test(a)).slice(0, 2).join(' ')}`,
    summarize: kwokError,
    fix,
  });
}

/** kwokctl logs JSON lines; the last ERROR line's err (or msg) says what went wrong. */
export function kwokError(stderr: string): string {
  const errors = stderr
    .split('\n')
    .map((line) => {
      try {
        return JSON.parse(line) as { level?: string; msg?: string; err?: string };
      } catch {
        return undefined;
      }
    })
    .filter((entry) => entry?.level === 'ERROR');
  const last = errors.at(-1);
  return last ? (last.err ?? last.msg ?? 'unknown error') : stderr.trim().split('\n').at(-1) ?? 'unknown error';
}
