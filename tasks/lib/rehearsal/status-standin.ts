// Controllers the rehearsal does not run, whose status Flux's health checks read: a Kustomization
// that waits on a ClusterIssuer (`wait: true`, `healthCheckExprs` on its Ready condition, as real
// trees do) is healthy once cert-manager marks it Ready. No pod runs here, so once the controller's
// release is deployed (by core or by a HelmRelease) this writes that Ready itself, and says so in
// the condition and in the report: a declared simulation, like the operator stand-in. Only issuers
// and secret stores: their Ready says "configured", which the tree alone decides; an ExternalSecret's
// or a Certificate's would claim a Secret that nothing wrote.
import type { KubernetesObject } from '@kubernetes/client-node';
import { listObjects, type Kube } from '../cluster/kube.ts';
import { readyCondition } from '../cluster/readiness.ts';
import { startPoller, type Poller } from '../runtime/poller.ts';
import { deployed } from './operator-standin.ts';
import { writeStandinStatus } from './standin-status.ts';

export interface StatusSimulation {
  controller: string;
  /** The Helm release that runs the controller. */
  release: string;
  apiVersion: string;
  kinds: string[];
}

export const STATUS_SIMULATIONS: StatusSimulation[] = [
  { controller: 'cert-manager', release: 'cert-manager', apiVersion: 'cert-manager.io/v1', kinds: ['ClusterIssuer', 'Issuer'] },
  {
    controller: 'external-secrets',
    release: 'external-secrets',
    apiVersion: 'external-secrets.io/v1',
    kinds: ['ClusterSecretStore', 'SecretStore'],
  },
];

type Obj = KubernetesObject & { status?: Record<string, unknown> };

/** The message every simulated condition carries. */
export const simulatedBy = (s: StatusSimulation) => `simulated by the rehearsal: ${s.controller} does not run here (its release ${s.release} is deployed)`;

export function startStatusStandin(kube: Kube, onSimulated: (object: string, simulation: StatusSimulation) => void): Pick<Poller, 'stop'> {
  const poller = startPoller(async () => {
    for (const simulation of STATUS_SIMULATIONS) {
      if (!(await deployed(kube, simulation.release).catch(() => false))) continue;
      for (const kind of simulation.kinds) {
        const objects = (await listObjects(kube, simulation.apiVersion, kind).catch(() => [])) as Obj[];
        for (const object of objects) {
          // The condition's own observedGeneration: a CRD whose status schema lacks the top-level one prunes it.
          const ready = readyCondition(object);
          if (ready?.status === 'True' && (ready.observedGeneration ?? object.status?.['observedGeneration']) === object.metadata?.generation) continue;
          const written = await writeStandinStatus(kube, object, `${kind.toLowerCase()}s`, [{ type: 'Ready', status: 'True', reason: 'Simulated', message: simulatedBy(simulation) }])
            .then(() => true)
            .catch(() => false);
          if (written) onSimulated(`${kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`, simulation);
        }
      }
    }
  }, 1000);
  return { stop: poller.stop };
}
