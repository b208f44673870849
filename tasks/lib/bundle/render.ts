// Renders a helmfile state file into objects per release, through a scratch folder that is
// always removed. render-crds, core's plan and the coverage audit all render this way.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { listReleases, templateReleases, type HelmfileRelease } from '../tools/helmfile.ts';
import type { ClusterTarget } from '../model/cluster-target.ts';
import { readRenderedManifests } from '../runtime/manifests.ts';

export interface RenderedState {
  releases: HelmfileRelease[];
  /** Objects per release name; a release that renders nothing maps to an empty list. */
  objects: Map<string, KubernetesObject[]>;
}

export async function renderState(target: ClusterTarget, stateFile: string, { includeCrds }: { includeCrds: boolean }): Promise<RenderedState> {
  const releases = (await listReleases(target, stateFile)).filter((r) => r.enabled);
  const scratch = await mkdtemp(path.join(os.tmpdir(), `render-${target.cluster.name}-`));
  try {
    await templateReleases(target, stateFile, scratch, { includeCrds });
    const objects = new Map<string, KubernetesObject[]>();
    for (const release of releases) {
      const dir = path.join(scratch, release.name);
      objects.set(release.name, existsSync(dir) ? await readRenderedManifests(dir) : []);
    }
    return { releases, objects };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
