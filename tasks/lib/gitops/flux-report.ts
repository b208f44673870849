// The rehearsal as a person reads it: layer by layer, each Kustomization with the kinds it
// applies and who serves them, then the findings with their fixes.
import type { Finding, TreeAudit } from './flux-audit.ts';
import type { TreeFiles } from './flux-tree.ts';
import { describeDifferences, describeManifest, type AuditWithHandover, type Handover } from './handover.ts';

/** The findings that fail the audit: all but warnings (a version skew under gitops.pinSkew: warn). */
export const failingFindings = ({ findings }: TreeAudit): Finding[] => findings.filter((f) => f.severity !== 'warn');

/** Each core release and what Flux's first reconcile does to it. */
function formatHandover(handover: Handover[]): string[] {
  const out = ['', 'Hand-off from core to Flux (core release → the HelmRelease that takes it over)'];
  for (const h of handover) {
    const to = h.helmRelease ? `${h.helmRelease.id} (${h.helmRelease.file})` : 'no HelmRelease of the tree: stays the bootstrap\'s';
    const mark = h.severity === 'error' ? '✗' : h.severity === 'warn' ? '!' : '✔';
    const intended = h.intended.length ? `; intended: ${h.intended.map((d) => d.path).join(', ')}` : '';
    const changes = describeDifferences(h);
    const objects = h.verdict === 'upgrade' || h.verdict === 'crd-ownership' ? describeManifest(h) : undefined;
    out.push(`  ${mark} ${h.release} → ${to}: ${h.verdict}${changes.length ? ` (${changes.join('; ')})` : ''}${objects ? `; objects: ${objects}` : ''}${intended}${h.reason ? ` (${h.reason})` : ''}`);
  }
  return out;
}

export function formatRehearsal({ layers, findings, handover }: AuditWithHandover, files: TreeFiles, verbose: boolean): string {
  const out: string[] = [];
  let current: number | null | undefined;
  for (const row of layers) {
    if (row.layer !== current) {
      current = row.layer;
      out.push(current === null ? 'Never starts (dependsOn cycle)' : `Layer ${current}`);
    }
    const after = row.dependsOn.length ? `  after ${row.dependsOn.join(', ')}` : '';
    out.push(`  ${row.kustomization}${row.wait ? ' (wait)' : ''}${after}`);
    out.push(`      ${row.file}`);
    for (const kind of row.kinds) out.push(`    ${kind.ok ? '✔' : '✗'} ${kind.apiVersion} ${kind.kind}: ${kind.servedBy}`);
  }
  if (handover?.length) out.push(...formatHandover(handover));
  if (findings.length) {
    out.push('', 'Findings');
    for (const f of findings) {
      out.push(`  ${f.severity === 'warn' ? '!' : '✗'} ${f.type}: ${f.message}`);
      out.push(`      ${f.kustomization ? `Kustomization ${f.kustomization}, ` : ''}${f.file}`);
      out.push(`      fix: ${f.fix}`);
    }
  }
  const kinds = new Set(layers.flatMap((l) => l.kinds.map((k) => `${k.apiVersion} ${k.kind}`))).size;
  const depth = Math.max(-1, ...layers.map((l) => l.layer ?? -1)) + 1;
  const failing = failingFindings({ layers, findings }).length;
  const warnings = findings.length - failing ? `, ${findings.length - failing} warnings` : '';
  out.push(
    '',
    `${layers.length} Kustomizations in ${depth} layers, ${kinds} kinds, ${failing} findings${warnings}`,
    `files: ${files.applied.length} applied, ${files.buildInputs.length} build inputs (kustomization.yaml, generator data), ${files.unreferenced.length} reached by no Kustomization (not judged)`,
  );
  if (verbose) {
    for (const file of files.buildInputs) out.push(`    build input: ${file}`);
    for (const file of files.unreferenced) out.push(`    not applied by Flux: ${file}`);
  }
  return out.join('\n');
}
