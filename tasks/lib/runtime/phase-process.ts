// How every phase process is started (by Nx, and by the benchmarks that stand in for a phase).
// - Node's compile cache: every phase is a fresh process that loads the Kubernetes client (about
//   130 MiB of generated models); a warm cache cut importing it from 3.6 s to 2.0 s here.
// - A 2 MB young generation: a phase is short and allocates in bursts (a 4 MB list, the bundle);
//   V8's default grows it to tens of MB. Peak memory of a cold crds run: 256 -> 176 MiB, same time.
export const PHASE_NODE_FLAGS = '--max-semi-space-size=2';
export const PHASE_ENV = { NODE_COMPILE_CACHE: '.nx/node-compile-cache' };

/** Set by the executors (tasks/executor): only a phase Nx runs records a live proof (tasks/lib/cluster/live-proof.ts). */
export const LIVE_PROOF_ENV = 'BOOTSTRAP_LIVE_PROOF';
