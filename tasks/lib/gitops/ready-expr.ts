// When Flux counts a dependency as ready. Flux 2.7's dependsOn[].readyExpr replaces the built-in
// check (the dependency's Ready condition at its current generation) unless kustomize-controller
// runs with the feature gate AdditiveCELDependencyCheck (default off, v1.9.6 internal/features).
// An expression that already holds while the dependency is still running its health checks lets
// the dependent start before, say, the dependency's HelmRelease has installed its CRDs. Each
// readyExpr is evaluated by Flux's own CEL code against the dependency as kustomize-controller
// leaves it before it is Ready (kustomization_controller.go: health checks running; health checks
// failed), with the dependent as `self` in its first reconcile.
import type { KubernetesObject } from '@kubernetes/client-node';
import { fluxCheckCel } from '../tools/flux-build.ts';
import type { FluxKustomization } from './flux-tree.ts';

export const ADDITIVE_GATE = 'AdditiveCELDependencyCheck';

/** Is the gate on in kustomize-controller's arguments (`--feature-gates=A=true,B=false`, the last one counts)? */
export function additiveDependencyCheck(args: string[]): boolean {
  let on = false;
  for (const arg of args) {
    const gates = /^--feature-gates=(.*)$/.exec(arg)?.[1];
    for (const pair of gates?.split(',') ?? []) {
      const [name, value] = pair.split('=');
      if (name?.trim() === ADDITIVE_GATE) on = value?.trim().toLowerCase() === 'true';
    }
  }
  return on;
}

const REVISION = `main@sha1:${'0'.repeat(40)}`;
const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 });

/** The dependency before it is Ready: health checks running (first reconcile), then failed. */
function notYetReady(dep: KubernetesObject): Array<Record<string, unknown>> {
  const base = { ...dep, metadata: { ...dep.metadata, generation: 1 } };
  const running = `Running health checks for revision ${REVISION} with a timeout of 5m0s`;
  return [
    { ...base, status: { lastAttemptedRevision: REVISION, conditions: [condition('Reconciling', 'True', 'Progressing', running), condition('Ready', 'Unknown', 'Progressing', 'Reconciliation in progress'), condition('Healthy', 'Unknown', 'Progressing', running)] } },
    { ...base, status: { observedGeneration: 1, lastAttemptedRevision: REVISION, conditions: [condition('Ready', 'False', 'HealthCheckFailed', 'timeout waiting for: [HelmRelease …]'), condition('Healthy', 'False', 'HealthCheckFailed', 'timeout waiting for: [HelmRelease …]')] } },
  ];
}

/**
 * The Kustomizations with `early` set: the dependencies whose readyExpr holds before they are
 * Ready. With the gate on, Flux checks Ready too, so none is early.
 */
export async function withEarlyDependencies(kustomizations: FluxKustomization[], cluster: string, additive: boolean): Promise<FluxKustomization[]> {
  if (additive || !kustomizations.some((k) => k.readyExprs)) return kustomizations;
  const objects = new Map<string, KubernetesObject>();
  for (const { objects: applied } of kustomizations) {
    for (const { object } of applied) if (object.kind === 'Kustomization') objects.set(`${object.metadata?.namespace}/${object.metadata?.name}`, object);
  }
  const asObject = (k: FluxKustomization): KubernetesObject => objects.get(k.id) ?? { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: k.name, namespace: k.namespace } };
  const byId = new Map(kustomizations.map((k) => [k.id, k]));
  const pairs = kustomizations.flatMap((k) => Object.entries(k.readyExprs ?? {}).filter(([dep]) => byId.has(dep)).map(([dep, readyExpr]) => ({ k, dep, readyExpr })));
  const self = (k: FluxKustomization) => ({ ...asObject(k), metadata: { ...asObject(k).metadata, generation: 1 }, status: {} });
  const checks = pairs.map(({ k, dep, readyExpr }, i) => ({ id: `${i}`, readyExpr, evaluate: notYetReady(asObject(byId.get(dep)!)).map((d) => ({ self: self(k), dep: d })) }));
  const results = await fluxCheckCel(cluster, checks);
  const early = new Map<string, string[]>();
  pairs.forEach(({ k, dep }, i) => {
    if (results.get(`${i}`)?.values?.some(Boolean)) early.set(k.id, [...(early.get(k.id) ?? []), dep]);
  });
  return kustomizations.map((k) => (early.has(k.id) ? { ...k, early: early.get(k.id) } : k));
}
