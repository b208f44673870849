// The docs stay true to the code without a sandbox: the README's picture of the phases is the Nx
// plugin's dependsOn, docs/architecture.md's import graph is what dependency-cruiser reads now,
// every link between the pages resolves, and every runnable block (docs/runnable-docs.md) parses
// and keeps to the sandbox. e2e 60-docs runs the blocks.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURE_PAGE, GRAPH_MARKERS, importGraphMermaid } from '../../scripts/docs-import-graph.ts';
import { createNodes } from '../../tasks/nx-plugin.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { docsFiles, docsRunnableBlocks, fences } from '../helpers/runnable-blocks.ts';

const read = (file: string) => readFile(path.join(workspaceRoot, file), 'utf8');

/** GitHub's anchor for a heading: lowercase, punctuation dropped, each space a dash. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

describe('the README picture of the phases', () => {
  it('has exactly the edges of the targets\' dependsOn, and marks the cached targets', async () => {
    const [[, result]] = (await createNodes[1](['clusters/infra/cluster.yaml'], {}, { nxJsonConfiguration: {}, workspaceRoot } as never)) as unknown as [[string, { projects: Record<string, { targets: Record<string, { dependsOn?: string[]; cache?: boolean }> }> }]];
    const targets = Object.values(result.projects)[0]!.targets;
    const wanted = Object.entries(targets).flatMap(([target, config]) => (config.dependsOn ?? []).map((dep) => `${dep} --> ${target}`));
    const cached = Object.entries(targets).filter(([, config]) => config.cache).map(([target]) => target);

    const mermaid = fences(await read('README.md')).find((f) => f.info === 'mermaid')!.body;
    const labels = new Map<string, string>();
    const edges: string[] = [];
    for (const line of mermaid.split('\n')) {
      const edge = /^\s*(\w+)(?:\["([^"]+)"\])?\s*-->\s*(\w+)(?:\["([^"]+)"\])?\s*$/.exec(line);
      if (!edge) continue;
      if (edge[2]) labels.set(edge[1]!, edge[2]);
      if (edge[4]) labels.set(edge[3]!, edge[4]);
      edges.push(`${edge[1]} --> ${edge[3]}`);
    }
    const named = (id: string) => labels.get(id) ?? id;
    expect(edges.map((e) => e.split(' --> ').map(named).join(' --> ')).sort()).toEqual(wanted.sort());
    const classLine = /^\s*class\s+(\S+)\s+cached\s*$/m.exec(mermaid)?.[1] ?? '';
    expect(classLine.split(',').map(named).sort()).toEqual(cached.sort());
  });
});

describe('the README', () => {
  it('stays under 250 lines: details belong in docs/', async () => {
    expect((await read('README.md')).trimEnd().split('\n').length).toBeLessThan(250);
  });
});

describe('docs/architecture.md', () => {
  it('shows the import graph dependency-cruiser reads now (node scripts/docs-import-graph.ts --write)', async () => {
    const shown = GRAPH_MARKERS.exec(await readFile(ARCHITECTURE_PAGE, 'utf8'))?.[2];
    expect(shown).toBe(await importGraphMermaid());
  });
});

describe('links between the pages', () => {
  it('point at files that exist, and at headings that exist', async () => {
    const broken: string[] = [];
    for (const file of await docsFiles()) {
      const text = await read(file);
      const outsideCode = text.split('\n').map((line, i) => ({ line, n: i + 1 }));
      const inFence = new Set(fences(text).flatMap((f) => Array.from({ length: f.body.split('\n').length + 2 }, (_, k) => f.line + k)));
      for (const { line, n } of outsideCode.filter(({ n }) => !inFence.has(n))) {
        for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (/^[a-z]+:/.test(target!)) continue;
          const [where, anchor] = target!.split('#') as [string, string | undefined];
          const resolved = where ? path.join(path.dirname(file), where) : file;
          if (!existsSync(path.join(workspaceRoot, resolved))) {
            broken.push(`${file}:${n}: ${target} (no such file)`);
            continue;
          }
          if (anchor && resolved.endsWith('.md')) {
            const headings = (await read(resolved)).split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, '')));
            if (!headings.includes(anchor)) broken.push(`${file}:${n}: ${target} (no heading #${anchor} in ${resolved})`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('BENCHMARKS.md moved to docs/benchmarks.md, and nothing still names the old place', async () => {
    expect(existsSync(path.join(workspaceRoot, 'BENCHMARKS.md'))).toBe(false);
    for (const file of [...(await docsFiles()), '.env']) expect(await read(file), file).not.toContain('BENCHMARKS.md');
  });
});

describe('runnable blocks', () => {
  it('all parse, and the README and the reference both have some', async () => {
    const blocks = await docsRunnableBlocks();
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(5);
    expect(blocks.filter((b) => b.file.startsWith('docs/')).length).toBeGreaterThanOrEqual(5);
  });

  it('never destroy the sandbox, run the tests, or reach a cluster other than the sandbox\'s', async () => {
    const refused = [
      /\bnpm (run )?test\b/,
      /\bnpm run (demo|benchmark)\b/,
      /\bsandbox(\.ts)?\s+(--\s+)?down\b/,
      /--recreate\b/,
      /\bvitest\b/,
      /\bkubectl\b.*\bdelete\b/,
      /\bhelm\b.*\b(uninstall|delete|rollback)\b/,
    ];
    const problems: string[] = [];
    for (const block of await docsRunnableBlocks()) {
      const at = `${block.file}:${block.line}`;
      for (const pattern of refused) if (pattern.test(block.code)) problems.push(`${at}: ${pattern}`);
      for (const [, context] of block.code.matchAll(/--(?:kube-)?context[ =](\S+)/g)) if (!/^kwok-(infra|apps)$/.test(context!)) problems.push(`${at}: context ${context}`);
      for (const [, project] of block.code.matchAll(/\bnx run ([^\s:]+):/g)) if (!/^(infra|apps)$/.test(project!)) problems.push(`${at}: project ${project}`);
      for (const [, cluster] of block.code.matchAll(/--cluster[ =](\S+)/g)) if (!/^(infra|apps)$/.test(cluster!)) problems.push(`${at}: cluster ${cluster}`);
      for (const [, kubeconfig] of block.code.matchAll(/KUBECONFIG=(\S+)/g)) if (kubeconfig !== '.sandbox/kubeconfig') problems.push(`${at}: KUBECONFIG ${kubeconfig}`);
    }
    expect(problems).toEqual([]);
  });
});
