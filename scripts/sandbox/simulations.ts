// What the sandbox simulates for every chart, real or stand-in: kwok Stages in
// scripts/sandbox/simulations/ (FluxInstance readiness, pods that exit 1 on request, …). Each is applied once its resource's
// kind is served: kwok cannot start a Stage for a kind whose CRD does not exist yet, and does not
// retry until a Stage changes. Pods, nodes and Job completion (which makes Helm hook Jobs finish)
// come from the node and pod Stages applied when a cluster is created (kwok-default-stages.yaml).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyOne } from '../../tasks/lib/cluster/apply.ts';
import { isNotFound, readObject, type Kube } from '../../tasks/lib/cluster/kube.ts';
import { parseManifests } from '../../tasks/lib/runtime/manifests.ts';

const simulationsDir = path.join(import.meta.dirname, 'simulations');

type Stage = KubernetesObject & { spec: { resourceRef: { apiGroup: string; kind: string } } };

export async function simulationStages(): Promise<Stage[]> {
  const files = (await readdir(simulationsDir)).filter((f) => f.endsWith('.yaml')).sort();
  const stages: Stage[] = [];
  for (const file of files) stages.push(...(parseManifests(await readFile(path.join(simulationsDir, file), 'utf8'), file) as Stage[]));
  return stages;
}

/**
 * Served in discovery and published in the OpenAPI v3 index. kwok builds a Stage's controller
 * from the OpenAPI spec of its kind, and a new CRD's group reaches /openapi/v3 a moment after
 * discovery serves it: a Stage applied in between fails with "GroupVersion … not found as OpenAPI
 * V3 path", and kwok never retries (seen: FluxInstance never Ready on one cluster of two).
 */
async function served(kube: Kube, apiGroup: string, kind: string): Promise<boolean> {
  const [group, version] = apiGroup.includes('/') ? apiGroup.split('/') : ['', apiGroup];
  try {
    // The core group ("v1") lives under /api, every other one under /apis.
    const resources = group ? await kube.customObjects.getAPIResources({ group, version: version! }) : await kube.core.getAPIResources();
    if (!resources.resources.some((r) => r.kind === kind)) return false;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const index = (await kube.getJson('/openapi/v3')) as { paths?: Record<string, unknown> };
  return Object.hasOwn(index.paths ?? {}, group ? `apis/${group}/${version}` : 'api/v1');
}

/** Applies each simulation Stage that is missing and whose kind is now served; returns their names. */
export async function reconcileSimulations(kube: Kube, stages: Stage[]): Promise<string[]> {
  const applied: string[] = [];
  for (const stage of stages) {
    if (await readObject(kube, stage)) continue;
    if (!(await served(kube, stage.spec.resourceRef.apiGroup, stage.spec.resourceRef.kind))) continue;
    await applyOne(kube, stage);
    applied.push(stage.metadata!.name!);
  }
  return applied;
}
