// audit (offline, cached): every apiVersion/kind the cluster's GitOps manifests use must be
// served by built-in Kubernetes or by a CRD of the bundle. Exit 0 clean, 1 findings, 2 error.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadBundle } from './lib/bundle-files.ts';
import { isCrd, manifestEntry } from './lib/crd-bundle.ts';
import { auditCoverage, formatCoverage, kindUses, type CoverageEntry } from './lib/coverage.ts';
import { BootstrapError } from './lib/errors.ts';
import { readManifests } from './lib/manifests.ts';
import { renderState } from './lib/render.ts';
import { runReport, type TaskContext } from './lib/task.ts';
import { paths, relative, workspaceRoot } from './lib/workspace.ts';

async function builtinKinds(version: string, clusterFile: string): Promise<Set<string>> {
  const file = path.join(import.meta.dirname, 'lib', 'builtin-kinds', `${version}.json`);
  if (!existsSync(file)) {
    throw new BootstrapError({
      subject: `${clusterFile}: kubernetesVersion`,
      problem: `no built-in kind list for Kubernetes ${version}`,
      fix: `generate it against a ${version} API server: node scripts/generate-builtin-kinds.ts <context>`,
    });
  }
  return new Set((JSON.parse(await readFile(file, 'utf8')) as { kinds: string[] }).kinds);
}

export async function audit({ cluster, context, log }: TaskContext): Promise<CoverageEntry[]> {
  const { manifest } = await loadBundle(cluster.name);
  const sources = await readManifests(cluster.verify.gitops.map((p) => path.resolve(workspaceRoot, p)));
  const uses = kindUses(sources.map(({ object, file }) => ({ apiVersion: object.apiVersion, kind: object.kind, file: relative(file) })));
  const core = await renderState({ cluster, context }, paths.coreHelmfile, { includeCrds: true });
  const coreCrds = [...core.objects].flatMap(([release, objects]) => objects.filter(isCrd).map((crd) => manifestEntry(crd, release)));
  const entries = auditCoverage(uses, await builtinKinds(cluster.kubernetesVersion, relative(cluster.file)), manifest.crds, coreCrds);

  const out = path.join(paths.dist, 'audit', cluster.name);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'coverage.json'), `${JSON.stringify({ cluster: cluster.name, kinds: entries }, null, 2)}\n`);
  const bad = entries.filter((e) => e.status === 'missing' || e.status === 'core-only');
  (bad.length ? log.failure : log.success)(`coverage: ${entries.length - bad.length}/${entries.length} kinds served after the CRD phase`);
  return entries;
}

if (import.meta.main) {
  // Offline: no context to take.
  await runReport(
    'audit',
    async (ctx) => {
      const kinds = await audit(ctx);
      return { json: { kinds }, text: formatCoverage(kinds), clean: kinds.every((e) => e.status === 'builtin' || e.status === 'bundle') };
    },
    { options: [] },
  );
}
