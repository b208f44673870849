// Infers one Nx project per clusters/<name>/cluster.yaml, with one target per phase.
// Adding a cluster is adding a folder. A broken cluster.yaml fails that cluster's targets only.
import path from 'node:path';
import { createNodesFromFiles, type CreateNodes, type TargetConfiguration } from 'nx/src/devkit-exports.js';
import { CLUSTER_NAME } from './lib/model/cluster-name.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { PHASE_ENV } from './lib/runtime/phase-process.ts';
import { GITOPS_ROOT_ENV } from './lib/runtime/workspace.ts';

export const name = 'cluster-bootstrap';

// Our executor (tasks/executor): one target runs `node tasks/<script>.ts --cluster <name>`; a run of
// several (nx run-many, a target with dependsOn) runs them in one process, in Nx's batch mode.
const phase = (script: string, cluster: string, description: string, extra: Partial<TargetConfiguration> = {}): TargetConfiguration => ({
  executor: './tasks/executor:phase',
  options: { script, cluster },
  cache: false,
  metadata: { description, technologies: ['kubernetes'] },
  ...extra,
});

/**
 * A tree read from outside the workspace (BOOTSTRAP_GITOPS_ROOT, gitops.sources checkouts) is
 * part of the cache key by its content: Nx hashes the digest's output (tasks/lib/gitops/gitops-digest.ts).
 */
const externalTree = (cluster: string) => [{ env: GITOPS_ROOT_ENV }, { runtime: `NODE_COMPILE_CACHE=${PHASE_ENV.NODE_COMPILE_CACHE} node tasks/lib/gitops/gitops-digest.ts ${cluster}` }];

/**
 * The phases that write (and verify) are served from the cache only while the cluster is exactly
 * as the phase left it: the live state's tokens (tasks/live-state.ts) are part of their hash, and
 * each phase's inputs include those of the phases before it, so a phase that runs again makes
 * every phase after it run too.
 */
const liveState = (cluster: string) => ({ runtime: `NODE_COMPILE_CACHE=${PHASE_ENV.NODE_COMPILE_CACHE} node tasks/live-state.ts ${cluster}` });

function clusterTargets(cluster: string): Record<string, TargetConfiguration> {
  return {
    prereqs: phase('prereqs', cluster, 'Preflight (tools, context, identity guard), then apply namespaces and secrets', {
      cache: true,
      inputs: ['cluster', 'engine', 'tools', liveState(cluster)],
    }),
    'render-crds': phase('render-crds', cluster, 'Render every CRD of helmfile.d/00-crds into a bundle and manifest (cached)', {
      cache: true,
      inputs: ['charts', 'clusterValues', 'engine', 'tools'],
      outputs: [`{workspaceRoot}/dist/crds/${cluster}`],
    }),
    crds: phase('crds', cluster, 'Server-side apply the CRD bundle, wait until every CRD is Established and served', {
      dependsOn: ['prereqs', 'render-crds'],
      cache: true,
      // The bundle is in the live state's digest, not a dependentTasksOutputFiles input: Nx hashes
      // such a task only after prereqs ends, which splits a --batch run into two processes.
      inputs: ['charts', 'cluster', 'engine', 'tools', liveState(cluster), { env: 'BOOTSTRAP_ALLOW_BREAKING' }],
    }),
    core: phase('core', cluster, 'helmfile sync of helmfile.d/01-core with each chart’s CRD installation off', {
      dependsOn: ['crds'],
      cache: true,
      inputs: ['charts', 'cluster', 'engine', 'tools', liveState(cluster), { env: 'BOOTSTRAP_ALLOW_BREAKING' }],
    }),
    'gitops-tree': phase('gitops-tree', cluster, 'Build the GitOps tree as Flux builds it, for verify (cached)', {
      cache: true,
      inputs: ['cluster', 'engine', 'tools', 'gitops', ...externalTree(cluster)],
      outputs: [`{workspaceRoot}/dist/gitops/${cluster}`],
    }),
    verify: phase('verify', cluster, 'Check CRDs, releases, workloads, conditions and a dry-run of the built first GitOps layer', {
      dependsOn: ['core', 'gitops-tree'],
      cache: true,
      inputs: ['charts', 'cluster', 'engine', 'tools', 'gitops', ...externalTree(cluster), liveState(cluster), { env: 'BOOTSTRAP_ALLOW_BREAKING' }],
    }),
    plan: phase('plan', cluster, 'Read-only plan of the crds phase: create / update / unchanged / breaking per CRD', {
      dependsOn: ['render-crds'],
      inputs: ['cluster', 'engine', { dependentTasksOutputFiles: '**/*', transitive: true }],
    }),
    drift: phase('drift', cluster, 'Live CRDs vs the bundle, CRDs from no release, and version skew across clusters', {
      dependsOn: ['render-crds'],
      inputs: ['cluster', 'engine', { dependentTasksOutputFiles: '**/*', transitive: true }],
    }),
    'upgrade-check': phase('upgrade-check', cluster, 'Read-only: every object of the CRDs the bundle changes (GitOps tree and live), dry-run by kube-apiserver in a throwaway control plane', {
      dependsOn: ['render-crds'],
      inputs: ['cluster', 'engine', 'gitops', { dependentTasksOutputFiles: '**/*', transitive: true }],
    }),
    'migrate-storage': phase('migrate-storage', cluster, 'Rewrite every object of a CRD whose stored version the bundle drops, then prune status.storedVersions (run before crds)', {
      dependsOn: ['render-crds'],
      inputs: ['cluster', 'engine', { dependentTasksOutputFiles: '**/*', transitive: true }],
    }),
    audit: phase('audit', cluster, 'Rehearse Flux from empty: the GitOps tree built as Flux does, layer by layer, every kind served before it is applied (cached)', {
      cache: true,
      dependsOn: ['render-crds'],
      inputs: ['charts', 'clusterValues', 'engine', 'tools', 'gitops', ...externalTree(cluster), { dependentTasksOutputFiles: '**/*', transitive: true }],
      outputs: [`{workspaceRoot}/dist/audit/${cluster}`],
    }),
    // No dependsOn on render-crds (the README's picture shows every edge): it reads the bundle
    // render-crds wrote and refuses one rendered from other inputs than the tree's. Its inputs
    // make it affected by a pull request that changes cluster.yaml, a chart or the tree.
    'kube-upgrade-check': phase('kube-upgrade-check', cluster, 'Offline, before a Kubernetes upgrade (--to <minor>, --from <minor>): built-in API versions of the tree the new minor does not serve, charts whose kubeVersion refuses it, CRDs that need a newer kube-apiserver', {
      inputs: ['charts', 'cluster', 'engine', 'gitops'],
    }),
    rehearse: phase('rehearse', cluster, 'Flux itself brings the tree up from empty in a throwaway kwok cluster: prereqs, crds, core, then source- and kustomize-controller (helm-controller stood in for); audit beside Flux', {
      dependsOn: ['render-crds'],
    }),
    bootstrap: {
      executor: 'nx:noop',
      dependsOn: ['verify'],
      cache: false,
      metadata: { description: 'All phases in order: prereqs → render-crds → crds → core → verify' },
    },
  };
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
