// What the tool keeps in a cluster about itself, named once: core writes its record there, and
// the live proof (cluster/live-proof.ts, a floor below core) reads it, so neither spells the name.

/** core's record of its last sync (core/core-record.ts). */
export const CORE_RECORD = { namespace: 'kube-system', name: 'cluster-bootstrap-core' } as const;
