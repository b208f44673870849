// The crds engine in one process, for the scale benchmark: plan (hash shortcut, dry-run of the
// rest), server-side apply of what changed, wait until every CRD is Established and served.
//   node scripts/bench/apply-crds.ts <kubeconfig> <context> <bundle.json>
import { readFile } from 'node:fs/promises';
import type { Bundle } from '../../tasks/lib/bundle-files.ts';
import { planCrds } from '../../tasks/lib/crd-plan.ts';
import { crdServingStates } from '../../tasks/lib/crd-status.ts';
import { applyCrd, connect } from '../../tasks/lib/kube.ts';
import { waitUntilReady } from '../../tasks/lib/wait.ts';
import { runWriteQueue } from '../../tasks/lib/write-queue.ts';

const [kubeconfigPath, context, file] = process.argv.slice(2) as [string, string, string];
const bundle = JSON.parse(await readFile(file, 'utf8')) as Bundle;
const kube = connect({ kubeconfigPath, context });
const plan = await planCrds(kube, bundle);
const byName = new Map(bundle.crds.map((c) => [c.metadata.name, c]));
const changes = plan.entries.filter((e) => e.action !== 'unchanged');
const result = await runWriteQueue(changes, async (entry) => void (await applyCrd(kube, byName.get(entry.name)!)));
if (result.failure) throw result.failure.error;
await waitUntilReady([...byName.keys()], (pending) => crdServingStates(kube, pending.map((n) => byName.get(n)!)), { timeoutMs: 900_000, what: 'CRDs' });
process.stdout.write(`${changes.length} applied\n`);
