// The fleet through Nx itself: N clusters, each its own throwaway control plane (etcd and
// kube-apiserver on loopback), bootstrapped to the crds phase (prereqs → render-crds → crds) by
// one `nx run-many --parallel P`, as a team runs its fleet. The clusters are folders of a
// workspace copy (clusters/fleet-<i>, the template's cluster.yaml, values and prerequisites), so
// the checkout's Nx graph is untouched. Their values are the same, so render-crds renders once for
// the fleet (the render share) and is an Nx cache hit afterwards: what a shared remote cache gives
// every CI job after the first. GNU time's CPU covers Nx and the phases, not the control planes
// (started by this process): that is the client's share, what a real fleet pays on one CI runner.
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCluster } from '../../tasks/lib/model/config.ts';
import { startThrowawayApiserver, type ThrowawayApiserver } from '../../tasks/lib/cluster/throwaway-apiserver.ts';
import { paths } from '../../tasks/lib/runtime/workspace.ts';
import { withWorkspaceCopy } from '../../test/helpers/workspace-copy.ts';
import { measure, type Measure } from './gnu-time.ts';
import { withThrowawaySecrets } from '../sandbox/throwaway-secrets.ts';

export interface FleetRun {
  clusters: number;
  parallel: number;
  cold: Measure;
  noop: Measure;
}

const fleetName = (i: number) => `fleet-${i + 1}`;

/** The template's cluster.yaml pointed at one throwaway control plane, under the fleet folder's name. */
function clusterYaml(template: string, name: string, plane: ThrowawayApiserver): string {
  const replaced = template
    .replace(/^kubeconfig: .*$/m, `kubeconfig: ${plane.kubeconfig}`)
    .replace(/^context: .*$/m, 'context: throwaway')
    .replace(/^ {2}server: .*$/m, `  server: ${plane.server}`)
    .replace(/^ {2}environment: .*$/m, `  environment: ${name}`)
    // A throwaway control plane is not a sandbox cluster (no kwok nodes, no fixed port).
    .replace(/^sandbox:\n(?: {2}.*\n)*/m, '');
  if (!replaced.includes(plane.server) || /^sandbox:/m.test(replaced)) throw new Error(`nx-fleet: the template cluster.yaml has another shape than expected`);
  return replaced;
}

export async function nxFleet(templateName: string, sizes: number[], parallels: number[]): Promise<{ render: Measure; runs: FleetRun[] }> {
  const template = await readFile(path.join(paths.clusters, templateName, 'cluster.yaml'), 'utf8');
  const { env } = withThrowawaySecrets([await loadCluster(templateName)], { ...process.env, NX_DAEMON: 'false' });
  const largest = Math.max(...sizes);
  return withWorkspaceCopy(async (copy) => {
    const place = async (planes: ThrowawayApiserver[]) => {
      for (let i = 0; i < largest; i++) {
        const name = fleetName(i);
        await mkdir(copy.file(`clusters/${name}`), { recursive: true });
        await cp(path.join(paths.clusters, templateName, 'prerequisites'), copy.file(`clusters/${name}/prerequisites`), { recursive: true });
        await copyFile(path.join(paths.clusters, templateName, 'values.yaml'), copy.file(`clusters/${name}/values.yaml`));
        await writeFile(copy.file(`clusters/${name}/cluster.yaml`), clusterYaml(template, name, planes[i % planes.length]!));
      }
    };
    const runMany = (target: string, count: number, flags: string) =>
      `nx run-many -t ${target} -p ${Array.from({ length: count }, (_, i) => fleetName(i)).join(',')} --outputStyle=stream ${flags} >/dev/null 2>&1`;

    // The fleet's one render (the render share), then a cache hit for every run below.
    const warm = await startThrowawayApiserver();
    let render: Measure;
    try {
      await place([warm]);
      render = await measure(runMany('render-crds', largest, `--parallel ${Math.max(...parallels)}`), env, copy.root);
    } finally {
      await warm.stop();
    }

    const runs: FleetRun[] = [];
    for (const clusters of sizes) {
      for (const parallel of parallels) {
        const planes: ThrowawayApiserver[] = [];
        try {
          for (let i = 0; i < clusters; i++) planes.push(await startThrowawayApiserver(120_000));
          await place(planes);
          const cold = await measure(runMany('crds', clusters, `--parallel ${parallel}`), env, copy.root);
          const noop = await measure(runMany('crds', clusters, `--parallel ${parallel}`), env, copy.root);
          runs.push({ clusters, parallel, cold, noop });
          process.stderr.write(`  fleet ${clusters} x --parallel ${parallel}: cold ${cold.seconds.toFixed(1)} s, no-op ${noop.seconds.toFixed(1)} s\n`);
        } finally {
          await Promise.all(planes.map((p) => p.stop()));
        }
      }
    }
    return { render: render!, runs };
  });
}
