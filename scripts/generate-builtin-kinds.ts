// Writes tasks/lib/gitops/builtin-kinds/<minor>.json for every minor cluster.yaml accepts: each
// apiVersion/kind a kube-apiserver of that release serves by default, without any CRD. The lists
// come from k8s.io/kubernetes itself, not from a running server: scripts/tools/builtin-kinds
// builds the control plane's API groups in memory, one build per pinned release
// (BUILTIN_KINDS_<minor> in scripts/tools/versions.env), cached outside the repository.
//   node scripts/generate-builtin-kinds.ts            # every minor
//   node scripts/generate-builtin-kinds.ts 1.37       # one
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { KUBERNETES_MINORS } from '../tasks/lib/model/kubernetes-versions.ts';
import { workspaceRoot } from '../tasks/lib/runtime/workspace.ts';

const unknown = process.argv.slice(2).filter((m) => !(KUBERNETES_MINORS as readonly string[]).includes(m));
if (unknown.length) {
  process.stderr.write(`generate-builtin-kinds: unknown minor ${unknown.join(', ')} (known: ${KUBERNETES_MINORS.join(', ')}; a new one goes into tasks/lib/model/kubernetes-versions.ts and versions.env)\n`);
  process.exit(2);
}
const minors = process.argv.length > 2 ? process.argv.slice(2) : KUBERNETES_MINORS;

for (const minor of minors) {
  const family = `builtin-kinds-${minor}`;
  await $({ stdio: ['ignore', 'inherit', 'inherit'] })`bash ${path.join(workspaceRoot, 'scripts/build-tools.sh')} ${family}`;
  const listed = JSON.parse((await $`${path.join(workspaceRoot, '.tools/bin', family)}`).stdout) as { kubernetes: string; kinds: string[] };
  // The version is stamped by ldflags and decides which kinds are past their lifecycle: a wrong one is a wrong list.
  if (!listed.kubernetes.startsWith(`v${minor}.`)) throw new Error(`${family} reports Kubernetes ${listed.kubernetes}, not ${minor}: rebuild it`);
  const file = path.join(workspaceRoot, 'tasks', 'lib', 'gitops', 'builtin-kinds', `${minor}.json`);
  await writeFile(file, `${JSON.stringify({ kubernetes: listed.kubernetes, kinds: listed.kinds }, null, 2)}\n`);
  process.stderr.write(`wrote ${listed.kinds.length} kinds of Kubernetes ${listed.kubernetes} to ${path.relative(workspaceRoot, file)}\n`);
}
