// Every target of a cluster, declared once. The Nx plugin derives the targets, their dependsOn
// and their (cumulative) inputs from this table; the runner reads whether a target writes or
// reads a cluster; the live proof reads what each cached phase reads; the rehearsal runs the
// phases that write, in this order; a test holds the README's phase table and picture to it.
// A new target is one entry here plus its file tasks/<name>.ts exporting `target`.
// Pure data: the Nx plugin loads it on every Nx command.

/**
 * writes: changes the cluster (identity guard, then the cluster's Lease); reads: reads the
 * pinned cluster (identity guard); offline: no cluster (or decides itself, like upgrade-check).
 */
export type Access = 'writes' | 'reads' | 'offline';

/**
 * live: served from Nx's cache only while the cluster is as the phase left it (docs/caching.md);
 * outputs: a pure function of its inputs, its dist/ folder cached; never: always runs.
 */
export type Caching = 'live' | 'outputs' | 'never';

/** Nx named inputs (nx.json), and three of the plugin's own. */
export type Input =
  | 'charts'
  | 'cluster'
  | 'clusterValues'
  | 'engine'
  | 'tools'
  | 'gitops'
  /** A tree outside the workspace (BOOTSTRAP_GITOPS_ROOT, gitops.sources), by its content. */
  | 'externalTree'
  /** Files the tasks it runs after wrote (the bundle). */
  | 'upstreamOutputs'
  | 'allowBreaking';

/** What a live phase's proof fingerprints (cluster/live-proof.ts). */
export type ProofObjects = 'declared' | 'crds' | 'releases' | 'everything';
/** dist/ files a live phase reads: the CRD bundle, the built GitOps tree. */
export type DistRead = 'bundle' | 'tree';

export interface PhaseDecl {
  description: string;
  /** Nx's dependsOn: the targets that run before it. */
  after: readonly string[];
  access: Access;
  caching: Caching;
  /** Its own inputs; a live phase also has every input of the phases it runs after. */
  inputs: readonly Input[];
  /** caching 'outputs': the folder dist/<outputs>/<cluster>. */
  outputs?: string;
  /** caching 'live': what its proof reads. */
  proof?: { objects: ProofObjects; dist: readonly DistRead[] };
  /** Runs nothing itself (Nx's noop): only its dependsOn. */
  aggregate?: boolean;
  /**
   * A report: prints text, --json or --format markdown, exits 1 on findings (--fail-on). A cached
   * report ends 0 whatever it finds, under Nx (a failed task is never cached): its verdict is in
   * dist/<outputs>/<cluster>/verdict.json, which the gate reads (scripts/gate.ts, pr-check).
   */
  report?: boolean;
}

export const PHASES = {
  prereqs: {
    description: 'Preflight (tools, context, identity guard), then apply namespaces and secrets',
    after: [],
    access: 'writes',
    caching: 'live',
    inputs: ['cluster', 'engine', 'tools'],
    proof: { objects: 'declared', dist: [] },
  },
  'render-crds': {
    description: 'Render every CRD of helmfile.d/00-crds into a bundle and manifest (cached)',
    after: [],
    access: 'offline',
    caching: 'outputs',
    inputs: ['charts', 'clusterValues', 'engine', 'tools'],
    outputs: 'crds',
  },
  crds: {
    description: 'Server-side apply the CRD bundle, wait until every CRD is Established and served',
    after: ['prereqs', 'render-crds'],
    access: 'writes',
    caching: 'live',
    // The bundle is in the proof, not an upstreamOutputs input: Nx hashes such a task only after
    // prereqs ends, which splits a --batch run into two processes.
    inputs: ['allowBreaking'],
    proof: { objects: 'crds', dist: ['bundle'] },
  },
  core: {
    description: 'helmfile sync of helmfile.d/01-core with each chart’s CRD installation off',
    after: ['crds'],
    access: 'writes',
    caching: 'live',
    inputs: [],
    proof: { objects: 'releases', dist: ['bundle'] },
  },
  'gitops-tree': {
    description: 'Build the GitOps tree as Flux builds it, for verify (cached)',
    after: [],
    access: 'offline',
    caching: 'outputs',
    inputs: ['cluster', 'engine', 'tools', 'gitops', 'externalTree'],
    outputs: 'gitops',
  },
  verify: {
    description: 'Check CRDs, releases (whole), workloads, conditions and a dry-run of the built first GitOps layer',
    after: ['core', 'gitops-tree'],
    access: 'reads',
    caching: 'live',
    inputs: [],
    proof: { objects: 'everything', dist: ['bundle', 'tree'] },
  },
  plan: {
    description: 'Read-only plan of the crds phase: create / update / unchanged / breaking per CRD',
    after: ['render-crds'],
    access: 'reads',
    caching: 'never',
    report: true,
    inputs: ['cluster', 'engine', 'upstreamOutputs'],
  },
  drift: {
    description: 'Live CRDs vs the bundle, CRDs from no release, version skew across clusters, objects of core releases missing',
    after: ['render-crds'],
    access: 'reads',
    caching: 'never',
    report: true,
    inputs: ['cluster', 'engine', 'upstreamOutputs'],
  },
  'upgrade-check': {
    description: 'Read-only: every object of the CRDs the bundle changes (GitOps tree and live), dry-run by kube-apiserver in a throwaway control plane',
    after: ['render-crds'],
    // Reads the cluster unless --base (tasks/upgrade-check.ts decides).
    access: 'offline',
    caching: 'never',
    report: true,
    inputs: ['cluster', 'engine', 'gitops', 'upstreamOutputs'],
  },
  'migrate-storage': {
    description: 'Rewrite every object of a CRD whose stored version the bundle drops, then prune status.storedVersions (run before crds)',
    after: ['render-crds'],
    access: 'writes',
    caching: 'never',
    inputs: ['cluster', 'engine', 'upstreamOutputs'],
  },
  audit: {
    description: 'Rehearse Flux from empty: the GitOps tree built as Flux does, layer by layer, every kind served before it is applied (cached)',
    after: ['render-crds'],
    access: 'offline',
    caching: 'outputs',
    report: true,
    inputs: ['charts', 'clusterValues', 'engine', 'tools', 'gitops', 'externalTree', 'upstreamOutputs'],
    outputs: 'audit',
  },
  // No dependsOn on render-crds (the README's picture shows every edge): it reads the bundle
  // render-crds wrote and refuses one rendered from other inputs than the tree's. Its inputs
  // make it affected by a pull request that changes cluster.yaml, a chart or the tree.
  'kube-upgrade-check': {
    description:
      'Offline, before a Kubernetes upgrade (--to <minor>, --from <minor>): built-in API versions of the tree the new minor does not serve, charts whose kubeVersion refuses it, CRDs that need a newer kube-apiserver',
    after: [],
    access: 'offline',
    caching: 'never',
    report: true,
    inputs: ['charts', 'cluster', 'engine', 'gitops'],
  },
  rehearse: {
    description: 'Flux itself brings the tree up from empty in a throwaway kwok cluster: prereqs, crds, core, then source- and kustomize-controller (helm-controller stood in for); audit beside Flux',
    after: ['render-crds'],
    access: 'offline',
    caching: 'never',
    report: true,
    inputs: [],
  },
  bootstrap: {
    description: 'All phases in order: prereqs → render-crds → crds → core → verify',
    after: ['verify'],
    access: 'offline',
    caching: 'never',
    inputs: [],
    aggregate: true,
  },
} as const satisfies Record<string, PhaseDecl>;

export type PhaseTable = Record<string, PhaseDecl>;
export type PhaseName = keyof typeof PHASES;
export type ProvenPhase = { [K in PhaseName]: (typeof PHASES)[K]['caching'] extends 'live' ? K : never }[PhaseName];

export const PHASE_NAMES = Object.keys(PHASES) as PhaseName[];
export const isPhaseName = (name: string): name is PhaseName => Object.hasOwn(PHASES, name);

/** The live-cached phases, in table order: their tokens make up the live state's line. */
export const PROVEN_PHASES = PHASE_NAMES.filter((name): name is ProvenPhase => PHASES[name].caching === 'live');
export const isProvenPhase = (name: string): name is ProvenPhase => (PROVEN_PHASES as string[]).includes(name);

/** Every target `name` runs after, directly or not, in table order. */
export function runsAfter(name: string, table: PhaseTable = PHASES): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => {
    for (const before of table[n]?.after ?? []) if (!seen.has(before)) (seen.add(before), visit(before));
  };
  visit(name);
  return Object.keys(table).filter((n) => seen.has(n));
}

/** The phases a bootstrap runs that write to the cluster, in order: what the rehearsal runs on its throwaway cluster. */
export const writingChain = (table: PhaseTable = PHASES): string[] => runsAfter('bootstrap', table).filter((n) => table[n]!.access === 'writes');
