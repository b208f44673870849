// prereqs: preflight (tools, context, API, identity guard), then namespaces and secrets,
// applied server-side, namespaces first; waits for every namespace to be Active.
import path from 'node:path';
import { applyAll, outcomeLine, summarize } from './lib/cluster/apply.ts';
import { BootstrapError } from './lib/runtime/errors.ts';
import { readObject } from './lib/cluster/kube.ts';
import { readManifests } from './lib/runtime/manifests.ts';
import { namespaceReadiness, type Readiness } from './lib/cluster/readiness.ts';
import { buildSecret, placeholderSecret } from './lib/cluster/secrets.ts';
import { phaseTarget, type TaskContext } from './lib/runner/task.ts';
import { checkTools } from './lib/tools/tools.ts';
import { relative } from './lib/runtime/workspace.ts';
import { waitUntilReady } from './lib/cluster/wait.ts';

export async function prereqs(ctx: TaskContext): Promise<void> {
  const { cluster, log, kube } = ctx;
  for (const tool of await checkTools()) log.success(`${tool.tool} ${tool.version}`);
  // The runner has run the identity guard (this phase writes): say what it proved.
  const client = kube();
  log.success(`context ${client.context} reaches ${client.server}, the cluster pinned in ${relative(cluster.file)}`);

  // Resolve every secret before the first write: a missing value must leave the cluster untouched.
  const secrets = await Promise.all(
    cluster.prerequisites.secrets.map((s) => (ctx.placeholderSecrets === undefined ? buildSecret(s, relative(cluster.file)) : placeholderSecret(s, ctx.placeholderSecrets))),
  );
  const manifests = (await readManifests([path.join(cluster.dir, 'prerequisites')])).map((s) => s.object);
  const namespaces = manifests.filter((o) => o.kind === 'Namespace');
  const others = manifests.filter((o) => o.kind !== 'Namespace');

  const declared = new Set(namespaces.map((n) => n.metadata?.name));
  const undeclared = cluster.prerequisites.secrets.find((s) => !declared.has(s.namespace));
  if (undeclared) {
    throw new BootstrapError({
      subject: `${relative(cluster.file)}: prerequisites.secrets ${undeclared.namespace}/${undeclared.name}`,
      problem: `namespace "${undeclared.namespace}" is not declared in ${relative(path.join(cluster.dir, 'prerequisites'))}/`,
      fix: `add a Namespace named ${undeclared.namespace} to prerequisites/ (nothing was applied)`,
    });
  }

  const applied = await applyAll(client, namespaces);
  await waitForNamespaces([...declared] as string[], ctx);
  applied.push(...(await applyAll(client, [...others, ...secrets])));
  // Secrets are named, never shown: outcomeLine prints kind and name only.
  for (const result of applied) (result.outcome === 'unchanged' ? log.info : log.success)(outcomeLine(result));
  log.success(`prerequisites: ${summarize(applied)}`);
}

async function waitForNamespaces(names: string[], { log, kube, timeoutMs }: TaskContext): Promise<void> {
  const client = kube();
  log.waiting(`waiting for ${names.length} namespaces to be Active`);
  await waitUntilReady(
    names,
    async (pending) => {
      const states = new Map<string, Readiness>();
      for (const name of pending) {
        const namespace = await readObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
        if (namespace) states.set(name, namespaceReadiness(namespace));
      }
      return states;
    },
    {
      timeoutMs: timeoutMs,
      what: 'namespaces to be Active',
      fix: 'a Terminating namespace must finish deleting first: check its finalizers',
    },
  );
}

export const target = phaseTarget('prereqs', prereqs);

if (import.meta.main) await target.cli();
