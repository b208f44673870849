// A kwok cluster on loopback: a real etcd, kube-apiserver, controller-manager and scheduler (built
// from upstream) run by kwokctl as host processes, with kwok simulating nodes and pods. The sandbox
// keeps two for good; the rehearsal makes one for a run and deletes it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { applyAll } from './apply.ts';
import type { KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { connect, isNotFound, type Kube } from './kube.ts';
import { servedForStages } from './kind-served.ts';
import { checkFeatureGates, knownGates, kwokctlKubernetesArgs } from './feature-gates.ts';
import type { ClusterConfig } from '../model/config.ts';
import type { Readiness } from './readiness.ts';
import { waitUntilReady } from './wait.ts';
import type { Logger } from '../runtime/log.ts';
import { parseManifests } from '../runtime/manifests.ts';
import { BootstrapError } from '../runtime/errors.ts';
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
  /** The cluster whose API-server feature gates and runtime config it runs with (cluster.yaml kubernetes.*). */
  declaredBy?: Pick<ClusterConfig, 'file' | 'kubernetes'>;
}

const tool = (name: string) => path.join(paths.toolsBin, name);

export function kwokEnv(workdir: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${paths.toolsBin}${path.delimiter}${process.env['PATH'] ?? ''}`, KWOK_WORKDIR: workdir };
}

export async function createKwokCluster(spec: KwokClusterSpec, fix: string, log: Pick<Logger, 'warning'>): Promise<Kube> {
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
    spec.declaredBy ? kwokctlKubernetesArgs(spec.declaredBy) : [],
  ].flat();
  if (spec.declaredBy && Object.keys(spec.declaredBy.kubernetes.featureGates).length) {
    checkFeatureGates(spec.declaredBy, await knownGates(tool('kube-apiserver'), spec.logCluster));
  }
  await kwokctl(spec, ['--config', kwokctlConfig, 'create', 'cluster', ...args], fix);
  const kube = connect({ kubeconfigPath: spec.kubeconfig, context: `kwok-${spec.name}` });
  // With Stage objects enabled kwok loads no default Stages: apply node and pod ones ourselves.
  const stages = parseManifests(await readFile(path.join(import.meta.dirname, 'kwok-default-stages.yaml'), 'utf8'), 'kwok-default-stages.yaml') as Stage[];
  await waitUntilReady(stageKinds(stages), (pending) => kindsServed(kube, pending), { timeoutMs: 60_000, what: `kwok cluster ${spec.name} to serve the kinds its Stages simulate`, fix });
  await applyAll(kube, stages);
  // kwokctl's node template defaults to 192.0.2.x node addresses and 10.0.0.x pod CIDRs: keep
  // both on loopback too (pods take their IPs from their node's podCIDR).
  const loopbackNodes = ['--param', '.nodeIPs=["127.66.0.1"]', '--param', '.podCIDRs=["127.65.0.0/24"]'];
  await kwokctl(spec, ['scale', 'node', '--name', spec.name, '--replicas', String(spec.nodes), ...loopbackNodes], fix);
  await proveRunsPods(kube, spec, fix, log);
  return kube;
}

type Stage = KubernetesObject & { spec: { resourceRef: { apiGroup: string; kind: string } } };

const stageKinds = (stages: Stage[]): string[] => [
  'kwok.x-k8s.io/v1alpha1 Stage',
  ...new Set(stages.map((s) => `${s.spec.resourceRef.apiGroup} ${s.spec.resourceRef.kind}`)),
];

async function kindsServed(kube: Kube, keys: string[]): Promise<Map<string, Readiness>> {
  const states = new Map<string, Readiness>();
  for (const key of keys) {
    const [apiGroup, kind] = key.split(' ') as [string, string];
    const served = await servedForStages(kube, apiGroup, kind).catch(() => false);
    states.set(key, { ready: served, reason: served ? 'served' : 'not in discovery and the OpenAPI v3 index yet' });
  }
  return states;
}

const PROBE = { namespace: 'default', name: 'kwok-probe' };

/**
 * A cluster is usable once its nodes are Ready and a pod is scheduled and Running: that takes the
 * scheduler and kwok's node and pod Stages. Twice in CI a cluster came up whose kwok-controller
 * never moved a pod past Pending on a Ready node (helm then waited out its whole timeout), and
 * applying the Stages again did not help: kwok-controller is restarted (kwokctl stop and start,
 * which keeps etcd's data), once, before the cluster is given up on with kwok-controller's errors.
 */
async function proveRunsPods(kube: Kube, spec: KwokClusterSpec, fix: string, log: Pick<Logger, 'warning'>): Promise<void> {
  const keys = [`pod ${PROBE.namespace}/${PROBE.name}`, ...Array.from({ length: spec.nodes }, (_, i) => `node ${i}`)];
  const check = async (): Promise<Map<string, Readiness>> => {
    try {
      const nodes = (await kube.core.listNode()).items;
      const states = new Map<string, Readiness>([[keys[0]!, await probePod(kube)]]);
      keys.slice(1).forEach((key, i) => states.set(key, nodeReady(nodes[i])));
      return states;
    } catch (error) {
      // A restarting API server: not ready yet, asked again.
      const reason = `the API server does not answer: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      return new Map(keys.map((key) => [key, { ready: false, reason }]));
    }
  };
  const what = `kwok cluster ${spec.name} to run pods (nodes Ready, a probe pod scheduled and Running)`;
  try {
    await waitUntilReady(keys, check, { timeoutMs: 30_000, what, fix });
  } catch {
    log.warning(`kwok cluster ${spec.name}: no pod Running after 30s; restarting its components (kwokctl stop and start cluster)`);
    await kwokctl(spec, ['stop', 'cluster', '--name', spec.name], fix).catch(() => undefined);
    await kwokctl(spec, ['start', 'cluster', '--name', spec.name], fix);
    const errors = async () => (await kwokControllerErrors(spec)) || 'no error logged';
    await waitUntilReady(keys, check, { timeoutMs: 60_000, what, fix }).catch(async (error: unknown) => {
      throw new BootstrapError({ subject: `kwok cluster ${spec.name}`, problem: `${error instanceof BootstrapError ? error.problem : String(error)}\n    kwok-controller: ${await errors()}`, fix });
    });
  }
  await kube.core.deleteNamespacedPod({ ...PROBE, gracePeriodSeconds: 0 });
}

/** The last errors kwok-controller logged (its log goes with the cluster's folder: said in the error instead). */
async function kwokControllerErrors(spec: Pick<KwokClusterSpec, 'name' | 'workdir'>): Promise<string> {
  const text = await readFile(path.join(spec.workdir, 'clusters', spec.name, 'logs', 'kwok-controller.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => /\bERROR\b/.test(line))
    .slice(-3)
    .map((line) => line.slice(0, 300))
    .join(' | ');
}

function nodeReady(node: V1Node | undefined): Readiness {
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return { ready: true, reason: 'Ready' };
  return { ready: false, reason: node ? `${node.metadata?.name}: Ready=${ready?.status ?? 'unknown'}` : 'not created yet' };
}

/** The probe pod's state; created on first call (and until the namespace's default ServiceAccount exists, which admission needs). */
async function probePod(kube: Kube): Promise<Readiness> {
  let pod: V1Pod;
  try {
    pod = await kube.core.readNamespacedPod(PROBE);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const body = { metadata: { name: PROBE.name }, spec: { containers: [{ name: 'probe', image: 'probe' }], terminationGracePeriodSeconds: 0 } };
    const created = await kube.core.createNamespacedPod({ namespace: PROBE.namespace, body }).catch((e: unknown) => e);
    return { ready: false, reason: created instanceof Error ? `not created yet: ${created.message.split('\n')[0]}` : 'created' };
  }
  return podRunning(pod);
}

function podRunning(pod: V1Pod): Readiness {
  if (pod.status?.phase === 'Running') return { ready: true, reason: 'Running' };
  return { ready: false, reason: pod.spec?.nodeName ? `on node ${pod.spec.nodeName}, phase ${pod.status?.phase ?? 'unknown'}` : 'not scheduled yet' };
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
