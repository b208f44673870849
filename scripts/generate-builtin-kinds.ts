// Writes tasks/lib/gitops/builtin-kinds/<major.minor>.json: every apiVersion/kind a fresh API server of
// that version serves. The coverage audit uses it offline. Groups that CRDs add are left out.
//   node scripts/generate-builtin-kinds.ts kwok-infra
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApisApi, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { connect } from '../tasks/lib/cluster/kube.ts';
import { paths, workspaceRoot } from '../tasks/lib/runtime/workspace.ts';

const context = process.argv[2] ?? 'kwok-infra';
const kubeconfig = path.join(paths.sandbox, 'kubeconfig');
const kube = connect({ kubeconfigPath: kubeconfig, context });
const config = new KubeConfig();
config.loadFromFile(kubeconfig);
config.setCurrentContext(context);

const version = await config.makeApiClient(VersionApi).getCode();
const crdGroups = new Set((await kube.apiextensions.listCustomResourceDefinition()).items.map((crd) => crd.spec.group));
const kinds = new Set<string>();
for (const resource of (await kube.core.getAPIResources()).resources) {
  if (!resource.name.includes('/')) kinds.add(`v1 ${resource.kind}`);
}
for (const group of (await config.makeApiClient(ApisApi).getAPIVersions()).groups.filter((g) => !crdGroups.has(g.name))) {
  for (const { groupVersion, version: v } of group.versions) {
    const list = await kube.customObjects.getAPIResources({ group: group.name, version: v });
    for (const resource of list.resources) if (!resource.name.includes('/')) kinds.add(`${groupVersion} ${resource.kind}`);
  }
}
const file = path.join(workspaceRoot, 'tasks', 'lib', 'gitops', 'builtin-kinds', `${version.major}.${version.minor.replace(/\D/g, '')}.json`);
await writeFile(file, `${JSON.stringify({ kubernetes: version.gitVersion, kinds: [...kinds].sort() }, null, 2)}\n`);
process.stderr.write(`wrote ${kinds.size} kinds to ${path.relative(workspaceRoot, file)}\n`);
