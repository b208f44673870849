// What flux-operator builds from a FluxInstance, reproduced for the rehearsal (read in
// controlplaneio-fluxcd/flux-operator at 17c6aea, 2026-08-19; docs/rehearse.md cites it):
// - the sync: one source and one root Kustomization, both named sync.name (else the instance's
//   namespace) in the instance's namespace (internal/builder/templates.go, syncTmpl);
// - its patch of the notification CRDs, so that Alert event sources and Receiver resources may be
//   FluxInstance, ResourceSet and ResourceSetInputProvider (notificationPatchTmpl): the
//   controllers' own CRDs refuse `kind: FluxInstance` in an Alert.
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Crd } from '../model/crd-bundle.ts';
import type { FluxSync } from './flux-sync.ts';

export const OPERATOR_EVENT_KINDS = ['FluxInstance', 'ResourceSet', 'ResourceSetInputProvider'];

/** The enum each notification CRD's patch extends, under a version's spec schema. */
const PATCHED: Record<string, string[]> = {
  'alerts.notification.toolkit.fluxcd.io': ['eventSources', 'items', 'properties', 'kind', 'enum'],
  'receivers.notification.toolkit.fluxcd.io': ['resources', 'items', 'properties', 'kind', 'enum'],
};

/**
 * The CRDs with flux-operator's notification patch applied: the kinds are added to the enum of
 * every served version that has it (flux-operator lists the versions per Flux minor; the ones it
 * leaves out are the ones a Flux minor no longer has).
 */
export function withOperatorPatches(crds: Crd[]): Crd[] {
  return crds.map((crd) => {
    const route = PATCHED[crd.metadata?.name ?? ''];
    if (!route) return crd;
    const copy = structuredClone(crd) as Crd & { spec: { versions: Array<{ schema?: { openAPIV3Schema?: Record<string, any> } }> } };
    for (const version of copy.spec.versions) {
      let node: Record<string, any> | undefined = version.schema?.openAPIV3Schema?.['properties']?.['spec']?.['properties'];
      for (const key of route.slice(0, -1)) node = node?.[key];
      const values = node?.['enum'];
      if (Array.isArray(values)) node!['enum'] = [...values, ...OPERATOR_EVENT_KINDS.filter((k) => !values.includes(k))];
    }
    return copy;
  });
}

/**
 * The sync objects as flux-operator creates them, the source's url pointed at the rehearsal's
 * loopback server. Its labels mark the source for the rehearsal's source-controller.
 */
export function syncObjects(sync: FluxSync, servedUrl: string, sourceLabels: Record<string, string>): KubernetesObject[] {
  const metadata = { name: sync.name, namespace: sync.namespace, labels: { 'app.kubernetes.io/managed-by': 'flux-operator', ...sourceLabels } };
  const source =
    sync.kind === 'GitRepository'
      ? { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata, spec: { interval: sync.interval, url: servedUrl, ref: { name: sync.ref } } }
      : // Served over plain HTTP on loopback: insecure, which flux-operator would not set for a registry.
        { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata, spec: { interval: sync.interval, url: servedUrl, insecure: true, ref: { tag: sync.ref } } };
  const root = {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: sync.name, namespace: sync.namespace, labels: { 'app.kubernetes.io/managed-by': 'flux-operator' } },
    spec: { interval: '10m0s', path: sync.path, prune: true, sourceRef: { kind: sync.kind, name: sync.name } },
  };
  return [source as KubernetesObject, root as KubernetesObject];
}

/** The controllers the rehearsal runs as host processes. */
export const HOST_CONTROLLERS = ['source-controller', 'kustomize-controller'] as const;

export interface ControllerFlags {
  /** Extra arguments per host controller, from the FluxInstance's kustomize.patches. */
  args: Record<string, string[]>;
  /** Patches the rehearsal does not reproduce, said in the report. */
  notReproduced: string[];
}

const ARGS_PATH = /^\/spec\/template\/spec\/containers\/0\/args\/-$/;

/**
 * The controller flags a FluxInstance's `kustomize.patches` add (flux-operator's documented form:
 * a JSON6902 `add` to `/spec/template/spec/containers/0/args/-` of the Deployments its target's
 * name matches, e.g. `--feature-gates=AdditiveCELDependencyCheck=true`), for the host-process
 * controllers. Any other patch is listed as not reproduced; a patch of a controller the rehearsal
 * does not run (helm-controller, notification-controller) changes nothing here.
 */
export function controllerFlags(patches: Array<{ patch?: string; target?: { kind?: string; name?: string } }>): ControllerFlags {
  const args: Record<string, string[]> = {};
  const notReproduced: string[] = [];
  for (const [index, { patch, target }] of patches.entries()) {
    const label = `kustomize.patches[${index}]${target?.name ? ` (${target.kind ?? '*'} ${target.name})` : ''}`;
    let ops: unknown;
    try {
      ops = parse(patch ?? '');
    } catch {
      ops = undefined;
    }
    const adds = Array.isArray(ops) && ops.every((op: { op?: string; path?: string; value?: unknown }) => op?.op === 'add' && ARGS_PATH.test(op.path ?? '') && typeof op.value === 'string');
    if (target?.kind !== 'Deployment' || !target.name || !adds) {
      notReproduced.push(label);
      continue;
    }
    const matches = new RegExp(`^(?:${target.name})$`);
    for (const controller of HOST_CONTROLLERS) {
      if (matches.test(controller)) (args[controller] ??= []).push(...(ops as Array<{ value: string }>).map((op) => op.value));
    }
  }
  return { args, notReproduced };
}
