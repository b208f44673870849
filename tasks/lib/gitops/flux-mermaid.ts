// audit's layers as a Mermaid flowchart for a pull-request comment (GitHub renders Mermaid):
// Kustomizations as nodes, an edge from each dependsOn to the Kustomization that waits for it, so
// the from-empty order reads top to bottom; a Kustomization with a finding is red, one with only
// a warning amber. test/unit/report-markdown.test.ts checks the text with mermaid's own parser.
import type { LayerRow, TreeAudit } from './flux-audit.ts';

/** A quoted node label: Mermaid ends it at a double quote, which it writes as #quot;. */
const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

function caption(row: LayerRow): string {
  const where = row.layer === null ? 'never starts: dependsOn cycle' : `layer ${row.layer}`;
  return `${row.kustomization}<br/>${where}${row.wait ? ', wait' : ''}`;
}

export function rehearsalMermaid({ layers, findings }: TreeAudit): string {
  // Node ids are generated: a Kustomization's name (dots, slashes) is not a valid Mermaid id.
  const ids = new Map(layers.map((row, index) => [row.kustomization, `k${index}`]));
  const out = ['flowchart TD'];
  for (const row of layers) out.push(`  ${ids.get(row.kustomization)}[${label(caption(row))}]`);
  for (const row of layers) {
    for (const dependency of row.dependsOn) {
      const from = ids.get(dependency);
      if (from) out.push(`  ${from} --> ${ids.get(row.kustomization)}`);
    }
  }
  const failing = new Set(findings.filter((f) => f.severity !== 'warn').map((f) => ids.get(f.kustomization)));
  const warned = new Set(findings.filter((f) => f.severity === 'warn').map((f) => ids.get(f.kustomization)));
  const marked = (set: Set<string | undefined>) => [...set].filter((id): id is string => !!id);
  out.push('  classDef finding fill:#ffd6d6,stroke:#d1242f,color:#82071e');
  out.push('  classDef warning fill:#fff1c2,stroke:#9a6700');
  const red = marked(failing);
  const amber = marked(warned).filter((id) => !failing.has(id));
  if (red.length) out.push(`  class ${red.join(',')} finding`);
  if (amber.length) out.push(`  class ${amber.join(',')} warning`);
  return out.join('\n');
}
