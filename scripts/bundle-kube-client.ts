// Bundles @kubernetes/client-node and its dependencies into one ES module (tasks/lib/cluster/kube-client.ts
// loads it): every phase process then reads one file instead of about 1,000. And its KubeConfig
// alone into another (tasks/lib/cluster/kube-config.ts). Not minified, so a stack trace from the
// client still names its functions. Run by scripts/ensure-workspace.sh; fast
// when the installed version is already bundled.
//   node scripts/bundle-kube-client.ts
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'rolldown';
import { kubeClientBundlePath } from '../tasks/lib/cluster/kube-client-path.ts';

/** What each bundle exports: the whole client, and KubeConfig alone (tree-shaken: about 3 of 17 MB). */
const ENTRIES = {
  client: "export * from '@kubernetes/client-node';\n",
  config: "export { KubeConfig } from '@kubernetes/client-node';\n",
} as const;

for (const [part, source] of Object.entries(ENTRIES) as Array<[keyof typeof ENTRIES, string]>) {
  const output = kubeClientBundlePath(part);
  if (existsSync(output)) continue;
  const dir = path.dirname(output);
  await mkdir(dir, { recursive: true });
  const entry = path.join(dir, `kube-${part}-entry.mjs`);
  await writeFile(entry, source);
  // Built beside it and renamed, so a phase never loads half a file.
  const partial = `${output}.${process.pid}.partial.mjs`;
  try {
    await build({ input: entry, platform: 'node', logLevel: 'warn', output: { file: partial, format: 'esm' } });
    await rename(partial, output);
  } finally {
    await rm(entry, { force: true });
    await rm(partial, { force: true });
  }
  process.stderr.write(`bundle-kube-client: ${path.relative(process.cwd(), output)}\n`);
}
