// Builds and publishes a variant of a stand-in chart (a new version with an edit), and pins it
// in helmfile.d of a workspace copy for the duration of a test.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dropHelmfileCache, fixtureCharts, mirrorEntries } from '../../scripts/sandbox/charts.ts';
import { paths, relative } from '../../tasks/lib/runtime/workspace.ts';
import { registry, run } from './sandbox.ts';
import { withWorkspaceCopy, type WorkspaceCopy } from './workspace-copy.ts';

export interface Variant {
  chart: string;
  from: string;
  to: string;
  /** Edits to apply to files of the copied chart: path → (text → text). */
  edit?: Record<string, (text: string) => string>;
}

export async function publishVariant({ chart, from, to, edit = {} }: Variant): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), `variant-${chart}-`));
  try {
    const dir = path.join(scratch, chart);
    await cp(path.join(fixtureCharts, chart), dir, { recursive: true });
    const chartFile = path.join(dir, 'Chart.yaml');
    await writeFile(chartFile, (await readFile(chartFile, 'utf8')).replace(`version: ${from}`, `version: ${to}`));
    for (const [file, change] of Object.entries(edit)) {
      const target = path.join(dir, file);
      const before = await readFile(target, 'utf8');
      const after = change(before);
      if (after === before) throw new Error(`variant edit of ${file} changed nothing`);
      await writeFile(target, after);
    }
    const repository = (await mirrorEntries()).find((e) => e.chart === chart)!.repository;
    const packaged = await run`helm package ${dir} --destination ${scratch}`;
    if (packaged.exitCode !== 0) throw new Error(packaged.stderr);
    const pushed = await run`helm push ${path.join(scratch, `${chart}-${to}.tgz`)} ${`oci://${registry}/${repository}`} --plain-http`;
    if (pushed.exitCode !== 0) throw new Error(pushed.stderr);
    await dropHelmfileCache(registry, repository, chart, to);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Runs `body` in a copy of the workspace whose helmfile.d/00-crds is edited; the checkout's is never touched. */
export async function withCrdsHelmfile<T>(change: (text: string) => string, body: (copy: WorkspaceCopy) => Promise<T>): Promise<T> {
  return withWorkspaceCopy(async (copy) => {
    await copy.edit(relative(paths.crdsHelmfile), change);
    return body(copy);
  });
}

export const pin = (chart: string, from: string, to: string) => (text: string) =>
  text.replace(new RegExp(`(${chart}\\n(?:.*\\n){1,3}?    version: )${from.replace(/\./g, '\\.')}`), `$1${to}`);

export const dropRelease = (release: string) => (text: string) =>
  text.replace(new RegExp(`\\n(?:  #[^\\n]*\\n)*  - name: ${release}\\n(?:    [^\\n]*\\n|\\n(?=    ))*`), '\n');

/** Where the VictoriaMetrics stand-in chart defines its CRD schemas. */
export const VMRULES = 'templates/_helpers.tpl';

const ruleItems = '        rules:\n          type: array\n          items:\n            description: Rule describes an alerting or recording rule.\n';
/**
 * VictoriaMetrics operator CRDs 0.13.0's change: VMRule spec.groups[].rules became a keyed list
 * (keys record and alert), which rejects a group with two alerts of one name.
 */
export const vmKeyedList = (text: string) => {
  const at = text.indexOf('define "vmcrds.spec.VMRule"');
  const head = text.slice(0, at);
  const body = text
    .slice(at)
    .replace(ruleItems, ruleItems.replace('          items:\n', '          x-kubernetes-list-type: map\n          x-kubernetes-list-map-keys:\n            - record\n            - alert\n          items:\n'))
    .replace('              alert:\n                type: string\n', '              alert:\n                type: string\n                default: ""\n')
    .replace('              record:\n                type: string\n', '              record:\n                type: string\n                default: ""\n');
  return head + body;
};
