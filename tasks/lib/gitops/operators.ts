// Kinds no chart carries as a CRD: an operator registers them at run time. Declared once with
// the operator, so the audit knows who provides them and what a Kustomization must wait for.
import type { OperatorSpec } from '../model/config.ts';

/** Shipped defaults; cluster.yaml gitops.operators adds to them (or overrides one by name). */
export const DEFAULT_OPERATORS: OperatorSpec[] = [
  {
    // The FluxInstance's components install Flux's CRDs (flux-operator reconciles them).
    name: 'flux-operator',
    release: 'flux-operator',
    groups: [
      'source.toolkit.fluxcd.io',
      'source.extensions.fluxcd.io',
      'kustomize.toolkit.fluxcd.io',
      'helm.toolkit.fluxcd.io',
      'notification.toolkit.fluxcd.io',
      'image.toolkit.fluxcd.io',
    ],
  },
  {
    // cilium-operator creates the cilium.io CRDs when it starts (the chart carries none).
    name: 'cilium-operator',
    release: 'cilium',
    groups: ['cilium.io'],
  },
];

export function operatorsFor(configured: OperatorSpec[]): OperatorSpec[] {
  const names = new Set(configured.map((o) => o.name));
  return [...DEFAULT_OPERATORS.filter((o) => !names.has(o.name)), ...configured];
}
