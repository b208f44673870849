// Infers one Nx project per clusters/<name>/cluster.yaml, with one target per entry of the phase
// table (tasks/lib/model/phases.ts). Adding a cluster is adding a folder; adding a phase, an entry
// and its file. A broken cluster.yaml fails that cluster's targets only.
import path from 'node:path';
import { createNodesFromFiles, type CreateNodes, type TargetConfiguration } from 'nx/src/devkit-exports.js';
import { CLUSTER_NAME } from './lib/model/cluster-name.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { PHASE_ENV } from './lib/runtime/phase-process.ts';
import { GITOPS_ROOT_ENV } from './lib/runtime/workspace.ts';
import { PHASES, runsAfter, type Input, type PhaseTable } from './lib/model/phases.ts';

export const name = 'cluster-bootstrap';

/** Named inputs in the order a target lists them (the plugin's own expand below); a live phase's live state comes between the two. */
const FILE_INPUTS: readonly Input[] = ['charts', 'cluster', 'clusterValues', 'engine', 'tools', 'gitops', 'externalTree', 'upstreamOutputs'];
/** Switches that change what a phase does, listed after the live state. */
const SWITCH_INPUTS: readonly Input[] = ['allowBreaking'];

/**
 * The phases that write (and verify) are served from the cache only while the cluster is exactly
 * as the phase left it: the live state's tokens (tasks/live-state.ts) are part of their hash.
 */
const liveState = (clusterName: string) => ({ runtime: `NODE_COMPILE_CACHE=${PHASE_ENV.NODE_COMPILE_CACHE} node tasks/live-state.ts ${clusterName}` });

type NxInput = NonNullable<TargetConfiguration['inputs']>[number];

function expand(input: Input, clusterName: string): NxInput[] {
  switch (input) {
    // A tree read from outside the workspace (BOOTSTRAP_GITOPS_ROOT, gitops.sources checkouts) is
    // part of the cache key by its content: Nx hashes the digest's output (tasks/lib/gitops/gitops-digest.ts).
    case 'externalTree':
      return [{ env: GITOPS_ROOT_ENV }, { runtime: `NODE_COMPILE_CACHE=${PHASE_ENV.NODE_COMPILE_CACHE} node tasks/lib/gitops/gitops-digest.ts ${clusterName}` }];
    case 'upstreamOutputs':
      return [{ dependentTasksOutputFiles: '**/*', transitive: true }];
    case 'allowBreaking':
      return [{ env: 'BOOTSTRAP_ALLOW_BREAKING' }];
    default:
      return [input];
  }
}

/**
 * A target's inputs. A live phase also has every input of the phases it runs after, so a phase
 * that runs again makes every phase after it run too (and the cluster's files include its values).
 */
function inputsOf(name: string, clusterName: string, table: PhaseTable): NxInput[] {
  const phase = table[name]!;
  const live = phase.caching === 'live';
  const own = new Set<Input>(live ? [name, ...runsAfter(name, table)].flatMap((n) => table[n]!.inputs) : phase.inputs);
  if (own.has('cluster')) own.delete('clusterValues');
  const listed = (inputs: readonly Input[]) => inputs.filter((i) => own.has(i)).flatMap((i) => expand(i, clusterName));
  return [...listed(FILE_INPUTS), ...(live ? [liveState(clusterName)] : []), ...listed(SWITCH_INPUTS)];
}

/**
 * One target of the table. Our executor (tasks/executor) runs `node tasks/<name>.ts --cluster <c>`;
 * a run of several (nx run-many, a target with dependsOn) runs them in one process, in Nx's batch mode.
 */
function targetOf(name: string, clusterName: string, table: PhaseTable): TargetConfiguration {
  const phase = table[name]!;
  const metadata = { description: phase.description };
  const after = phase.after.length ? { dependsOn: [...phase.after] } : {};
  if (phase.aggregate) return { executor: 'nx:noop', ...after, cache: false, metadata };
  const inputs = inputsOf(name, clusterName, table);
  return {
    executor: './tasks/executor:phase',
    // A cached report ends 0 whatever it finds, so that Nx caches it; its verdict gates (runner/verdict.ts).
    options: { script: name, cluster: clusterName, ...(phase.report && phase.caching === 'outputs' ? { failOn: 'never' } : {}) },
    cache: phase.caching !== 'never',
    metadata: { ...metadata, technologies: ['kubernetes'] },
    ...after,
    ...(inputs.length ? { inputs } : {}),
    ...(phase.outputs ? { outputs: [`{workspaceRoot}/dist/${phase.outputs}/${clusterName}`] } : {}),
  };
}

/** Every target of a cluster, in table order (tasks/lib/model/phases.ts). */
export function clusterTargets(clusterName: string, table: PhaseTable = PHASES): Record<string, TargetConfiguration> {
  return Object.fromEntries(Object.keys(table).map((name) => [name, targetOf(name, clusterName, table)]));
}

export const createNodes: CreateNodes = [
  'clusters/*/cluster.yaml',
  (configFiles, options, context) =>
    createNodesFromFiles(
      (configFile) => {
        const root = path.dirname(configFile);
        const cluster = path.basename(root);
        // The name ends up in a run-commands command line, which Nx runs through a shell: a
        // folder named `x;touch pwned;y` must be refused here, before it is part of any command.
        if (!CLUSTER_NAME.test(cluster)) {
          throw new BootstrapError({
            subject: configFile,
            problem: `the folder name "${cluster}" is not a valid cluster name (${CLUSTER_NAME.source})`,
            fix: 'rename the folder to lowercase letters, digits and dashes, starting with a letter or digit',
          });
        }
        // cluster.yaml itself is validated by every task, not here: one broken file then fails
        // only its own cluster's targets (naming the file and key), never the graph of all.
        return {
          projects: {
            [root]: { name: cluster, root, projectType: 'application', tags: ['cluster'], targets: clusterTargets(cluster) },
          },
        };
      },
      configFiles,
      options,
      context,
    ),
];

export const createNodesV2 = createNodes;
