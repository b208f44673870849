// What the sandbox simulates for every chart, real or stand-in: kwok Stages in
// scripts/sandbox/simulations/ (FluxInstance readiness, pods that exit 1 on request, …). Each is applied once its resource's
// kind is served: kwok cannot start a Stage for a kind whose CRD does not exist yet, and does not
// retry until a Stage changes. Pods, nodes and Job completion (which makes Helm hook Jobs finish)
// come from the node and pod Stages applied when a cluster is created (kwok-default-stages.yaml).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyOne } from '../../tasks/lib/cluster/apply.ts';
import { servedForStages } from '../../tasks/lib/cluster/kind-served.ts';
import { readObject, type Kube } from '../../tasks/lib/cluster/kube.ts';
import { parseManifests } from '../../tasks/lib/runtime/manifests.ts';

const simulationsDir = path.join(import.meta.dirname, 'simulations');

type Stage = KubernetesObject & { spec: { resourceRef: { apiGroup: string; kind: string } } };

export async function simulationStages(): Promise<Stage[]> {
  const files = (await readdir(simulationsDir)).filter((f) => f.endsWith('.yaml')).sort();
  const stages: Stage[] = [];
  for (const file of files) stages.push(...(parseManifests(await readFile(path.join(simulationsDir, file), 'utf8'), file) as Stage[]));
  return stages;
}

/** Applies each simulation Stage that is missing and whose kind is now served; returns their names. */
export async function reconcileSimulations(kube: Kube, stages: Stage[]): Promise<string[]> {
  const applied: string[] = [];
  for (const stage of stages) {
    if (await readObject(kube, stage)) continue;
    if (!(await servedForStages(kube, stage.spec.resourceRef.apiGroup, stage.spec.resourceRef.kind))) continue;
    await applyOne(kube, stage);
    applied.push(stage.metadata!.name!);
  }
  return applied;
}
