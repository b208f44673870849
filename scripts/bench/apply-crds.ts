// The crds engine in one process, for the scale benchmark: the phase's plan, writes (dry-run of
// every create, then the changes) and wait, without Nx, cluster.yaml or the identity guard.
//   node scripts/bench/apply-crds.ts <kubeconfig> <context> <bundle.json>
import { readFile } from 'node:fs/promises';
import type { Bundle } from '../../tasks/lib/bundle/bundle-files.ts';
import { planCrds } from '../../tasks/lib/crds/crd-plan.ts';
import { waitUntilServed } from '../../tasks/lib/crds/crd-status.ts';
import { connect, listCrds } from '../../tasks/lib/cluster/kube.ts';
import { writeCrds } from '../../tasks/lib/crds/crd-writes.ts';

const [kubeconfigPath, context, file] = process.argv.slice(2) as [string, string, string];
const bundle = JSON.parse(await readFile(file, 'utf8')) as Bundle;
const kube = connect({ kubeconfigPath, context });
const live = await listCrds(kube);
const plan = await planCrds(kube, bundle, {}, live);
const changes = plan.entries.filter((e) => e.action !== 'unchanged');
const result = await writeCrds(kube, bundle, changes, 'bench');
if (result.failure) throw result.failure.error;
await waitUntilServed(kube, bundle.crds, changes.length === 0 ? live : undefined, { timeoutMs: 900_000, what: 'CRDs' });
process.stdout.write(`${changes.length} applied\n`);
