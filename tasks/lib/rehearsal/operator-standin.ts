// The rehearsal's stand-in for operators that register CRDs at run time (cilium-operator creates
// the cilium.io CRDs when it starts; no chart carries them). No operator runs in a rehearsal, so
// once the operator's release is deployed (by the core phase or by a HelmRelease), this registers
// the kinds of its groups that the tree uses, with a schema that accepts anything: what the
// operator would serve, without its validation. Each such CRD is labelled and reported as simulated.
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyAll } from '../cluster/apply.ts';
import { listObjects, type Kube } from '../cluster/kube.ts';
import type { OperatorSpec } from '../model/config.ts';
import { startPoller } from '../runtime/poller.ts';

export const SIMULATED_LABEL = 'rehearsal.cluster-bootstrap.io/simulated-operator';

export interface SimulatedKinds {
  operator: OperatorSpec;
  crds: KubernetesObject[];
}

/** Per operator, stand-in CRDs for the kinds of its groups the tree applies (namespaced when the tree gives them a namespace). */
export function simulatedKinds(operators: OperatorSpec[], objects: KubernetesObject[], served: Set<string>): SimulatedKinds[] {
  return operators.map((operator) => {
    const kinds = new Map<string, { group: string; kind: string; versions: Set<string>; namespaced: boolean }>();
    for (const o of objects) {
      const [group, version] = (o.apiVersion ?? '').split('/');
      if (!version || !operator.groups.includes(group!) || served.has(`${group}/${o.kind}`)) continue;
      const entry = kinds.get(`${group}/${o.kind}`) ?? { group: group!, kind: o.kind!, versions: new Set<string>(), namespaced: false };
      entry.versions.add(version);
      entry.namespaced ||= Boolean(o.metadata?.namespace);
      kinds.set(`${group}/${o.kind}`, entry);
    }
    const crds = [...kinds.values()].map(({ group, kind, versions, namespaced }) => {
      const plural = `${kind.toLowerCase()}s`;
      return {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${plural}.${group}`, labels: { [SIMULATED_LABEL]: operator.name } },
        spec: {
          group,
          scope: namespaced ? 'Namespaced' : 'Cluster',
          names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
          versions: [...versions].sort().map((name, index) => ({
            name,
            served: true,
            storage: index === 0,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            subresources: { status: {} },
          })),
        },
      } as KubernetesObject;
    });
    return { operator, crds };
  }).filter((s) => s.crds.length > 0);
}

/** Whether Helm has a deployed release of that name in any namespace (its release Secrets). */
export async function deployed(kube: Kube, release: string): Promise<boolean> {
  const secrets = await kube.core.listSecretForAllNamespaces({ labelSelector: `owner=helm,name=${release},status=deployed` });
  return secrets.items.length > 0;
}

/**
 * Registers each operator's kinds once its release is deployed, until stopped. `firstPass`
 * resolves after the first look: an operator the core phase installed is up before any
 * Kustomization runs, as it is on a cluster.
 */
export function startOperatorStandin(kube: Kube, simulated: SimulatedKinds[], onRegistered: (operator: OperatorSpec, kinds: string[]) => void): { firstPass: Promise<void>; stop(): Promise<void> } {
  const pending = new Set(simulated);
  return startPoller(async () => {
    for (const entry of [...pending]) {
      if (!(await deployed(kube, entry.operator.release).catch(() => false))) continue;
      await applyAll(kube, entry.crds);
      pending.delete(entry);
      onRegistered(entry.operator, entry.crds.map((c) => `${(c as { spec: { group: string } }).spec.group} ${(c as { spec: { names: { kind: string } } }).spec.names.kind}`));
    }
    return pending.size === 0 ? 'done' : undefined;
  }, 1000);
}

/** "group/Kind" of every CRD the cluster serves now. */
export async function servedKinds(kube: Kube): Promise<Set<string>> {
  const crds = (await listObjects(kube, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition')) as Array<KubernetesObject & { spec: { group: string; names: { kind: string } } }>;
  return new Set(crds.map((c) => `${c.spec.group}/${c.spec.names.kind}`));
}
