// The import graph of tasks/lib's folders, as Mermaid, for docs/architecture.md: dependency-cruiser
// reads the imports (collapsed to one node per folder), .dependency-cruiser.cjs's layer rules give
// the floors. A unit test (test/unit/docs.test.ts) keeps the page's copy equal to this output.
//   node scripts/docs-import-graph.ts           print the ```mermaid block
//   node scripts/docs-import-graph.ts --write   replace the block in docs/architecture.md
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { workspaceRoot } from '../tasks/lib/runtime/workspace.ts';

export const ARCHITECTURE_PAGE = path.join(workspaceRoot, 'docs', 'architecture.md');
export const GRAPH_MARKERS = /(<!-- import-graph[^>]*-->\n)([\s\S]*?)(\n<!-- \/import-graph -->)/;

interface LayerRule {
  name: string;
  to: { path?: string };
}

/**
 * tasks/lib's floors, top first, read back from the layer-<folder> rules: each rule forbids the
 * folders on its own floor and above, so the size of that set places the folder.
 */
export function floorsOf(rules: LayerRule[]): string[][] {
  const above = new Map<string, number>();
  for (const rule of rules.filter((r) => r.name.startsWith('layer-'))) {
    const forbidden = /^\^tasks\/lib\/\(([^)]*)\)\/$/.exec(rule.to.path ?? '')?.[1]?.split('|') ?? [];
    above.set(rule.name.slice('layer-'.length), forbidden.length + 1);
  }
  const counts = [...new Set(above.values())].sort((a, b) => a - b);
  return counts.map((count) => [...above].filter(([, c]) => c === count).map(([folder]) => folder));
}

/** Folder → the folders it imports, from dependency-cruiser's JSON collapsed to tasks/lib/<folder>/. */
async function folderImports(): Promise<Map<string, Set<string>>> {
  const bin = path.join(workspaceRoot, 'node_modules', '.bin', 'depcruise');
  const { stdout } = await promisify(execFile)(
    bin,
    ['tasks/lib', '--config', '.dependency-cruiser.cjs', '--include-only', '^tasks/lib/', '--collapse', '^tasks/lib/[^/]+/', '--output-type', 'json'],
    { cwd: workspaceRoot, maxBuffer: 64 * 1024 * 1024 },
  );
  const folder = (p: string) => /^tasks\/lib\/([^/]+)\/$/.exec(p)?.[1];
  const imports = new Map<string, Set<string>>();
  for (const module of (JSON.parse(stdout) as { modules: Array<{ source: string; dependencies: Array<{ resolved: string }> }> }).modules) {
    const from = folder(module.source);
    if (!from) continue;
    const to = module.dependencies.map((d) => folder(d.resolved)).filter((f): f is string => !!f && f !== from);
    imports.set(from, new Set(to));
  }
  return imports;
}

/** The graph as a ```mermaid block: one subgraph per floor, top floor first, every folder-to-folder import. */
export async function importGraphMermaid(): Promise<string> {
  const config = createRequire(import.meta.url)(path.join(workspaceRoot, '.dependency-cruiser.cjs')) as { forbidden: LayerRule[] };
  const floors = floorsOf(config.forbidden);
  const order = floors.flat();
  const imports = await folderImports();
  const lines = ['```mermaid', 'flowchart TB'];
  floors.forEach((floor, index) => {
    lines.push(`  subgraph floor${index + 1}["floor ${index + 1}"]`, `    direction LR`, ...floor.map((f) => `    ${f}`), '  end');
  });
  for (const from of order) {
    for (const to of [...(imports.get(from) ?? [])].sort((a, b) => order.indexOf(a) - order.indexOf(b))) lines.push(`  ${from} --> ${to}`);
  }
  lines.push('```');
  return lines.join('\n');
}

if (import.meta.main) {
  const graph = await importGraphMermaid();
  if (process.argv.includes('--write')) {
    const page = await readFile(ARCHITECTURE_PAGE, 'utf8');
    if (!GRAPH_MARKERS.test(page)) throw new Error(`${path.relative(workspaceRoot, ARCHITECTURE_PAGE)} has no <!-- import-graph --> … <!-- /import-graph --> markers`);
    await writeFile(ARCHITECTURE_PAGE, page.replace(GRAPH_MARKERS, (_, open: string, _old: string, close: string) => `${open}${graph}${close}`));
  } else {
    process.stdout.write(`${graph}\n`);
  }
}
