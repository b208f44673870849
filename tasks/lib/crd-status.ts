// Live state of the bundle's CRDs: conditions from the API, and whether discovery serves each kind.
// A CRD can report Established shortly before discovery serves it (kubernetes#62725).
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import type { Crd } from './crd-bundle.ts';
import { apiError, isNotFound, type Kube } from './kube.ts';
import { crdReadiness, type Readiness } from './readiness.ts';
import { toWire } from './yaml.ts';

export async function listLiveCrds(kube: Kube): Promise<Map<string, V1CustomResourceDefinition>> {
  try {
    const list = await kube.apiextensions.listCustomResourceDefinition();
    return new Map(list.items.map((crd) => [crd.metadata?.name ?? '', crd]));
  } catch (cause) {
    throw apiError(cause, 'CustomResourceDefinitions', 'list failed');
  }
}

/**
 * The client's typed model renames schema keys (enum → _enum, x-kubernetes-* → x_kubernetes_*);
 * comparisons need the wire form, which the client's own serializer gives back.
 */
export function toWireCrd(live: V1CustomResourceDefinition): Crd {
  return toWire<Crd>({ ...live, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' });
}

/** The plurals discovery serves for one group/version, or an empty set if it serves none yet. */
async function servedPlurals(kube: Kube, group: string, version: string): Promise<Set<string>> {
  try {
    const resources = await kube.customObjects.getAPIResources({ group, version });
    return new Set(resources.resources.map((r) => r.name));
  } catch (cause) {
    // 404 until the aggregated discovery picks the group up: "not served yet". Anything else
    // (no connection, no permission) is an error, not an empty answer.
    if (isNotFound(cause)) return new Set();
    throw apiError(cause, `discovery of ${group}/${version}`, 'read failed');
  }
}

/** Established + NamesAccepted, then every served version of the kind visible in discovery. */
export async function crdServingStates(kube: Kube, crds: Crd[]): Promise<Map<string, Readiness>> {
  const live = await listLiveCrds(kube);
  const states = new Map<string, Readiness>();
  const discovery = new Map<string, Promise<Set<string>>>();
  for (const crd of crds) {
    const current = live.get(crd.metadata.name);
    if (!current) {
      states.set(crd.metadata.name, { ready: false, reason: 'not found in the cluster' });
      continue;
    }
    const condition = crdReadiness(current as Crd);
    if (!condition.ready) {
      states.set(crd.metadata.name, condition);
      continue;
    }
    const missing: string[] = [];
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const key = `${crd.spec.group}/${version.name}`;
      if (!discovery.has(key)) discovery.set(key, servedPlurals(kube, crd.spec.group, version.name));
      if (!(await discovery.get(key)!).has(crd.spec.names.plural)) missing.push(version.name);
    }
    states.set(
      crd.metadata.name,
      missing.length === 0
        ? { ready: true, reason: 'Established and served' }
        : { ready: false, reason: `Established, but discovery does not serve ${crd.spec.names.kind} in ${missing.join(', ')} yet` },
    );
  }
  return states;
}
