// The coverage audit: every apiVersion/kind the GitOps manifests use must be served by built-in
// Kubernetes or by a CRD of the bundle, before Flux applies them. Pure; the audit task does I/O.
import type { ManifestEntry } from './crd-bundle.ts';

export type CoverageStatus = 'builtin' | 'bundle' | 'core-only' | 'missing';

export interface KindUse {
  apiVersion: string;
  kind: string;
  files: string[];
}

export interface CoverageEntry extends KindUse {
  status: CoverageStatus;
  /** For bundle and core-only kinds, the release that carries the CRD. */
  release?: string;
}

/** Groups objects by apiVersion and kind, with the files that use each. */
export function kindUses(objects: Array<{ apiVersion?: string; kind?: string; file: string }>): KindUse[] {
  const uses = new Map<string, KindUse>();
  for (const { apiVersion = '', kind = '', file } of objects) {
    const key = `${apiVersion} ${kind}`;
    const use = uses.get(key) ?? { apiVersion, kind, files: [] };
    if (!use.files.includes(file)) use.files.push(file);
    uses.set(key, use);
  }
  return [...uses.values()].sort((a, b) => `${a.apiVersion} ${a.kind}`.localeCompare(`${b.apiVersion} ${b.kind}`));
}

function servedBy(crds: ManifestEntry[], apiVersion: string, kind: string): ManifestEntry | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return crds.find((c) => c.group === group && c.kind === kind && c.versions.includes(version!));
}

/**
 * `coreCrds` are CRDs that 01-core charts carry: core installs with --skip-crds and the CRD
 * switches off, so such a kind is never installed by the bootstrap: it must move to 00-crds.
 */
export function auditCoverage(uses: KindUse[], builtin: Set<string>, bundle: ManifestEntry[], coreCrds: ManifestEntry[]): CoverageEntry[] {
  return uses.map((use) => {
    if (builtin.has(`${use.apiVersion} ${use.kind}`)) return { ...use, status: 'builtin' };
    const inBundle = servedBy(bundle, use.apiVersion, use.kind);
    if (inBundle) return { ...use, status: 'bundle', release: inBundle.release };
    const inCore = servedBy(coreCrds, use.apiVersion, use.kind);
    if (inCore) return { ...use, status: 'core-only', release: inCore.release };
    return { ...use, status: 'missing' };
  });
}

export function formatCoverage(entries: CoverageEntry[]): string {
  const out: string[] = [];
  for (const entry of entries) {
    const what = `${entry.apiVersion} ${entry.kind}`;
    if (entry.status === 'builtin') out.push(`✔ ${what}: built in`);
    else if (entry.status === 'bundle') out.push(`✔ ${what}: CRD from ${entry.release} (CRD phase)`);
    else {
      const why =
        entry.status === 'core-only'
          ? `its CRD comes only with core release ${entry.release}, which installs with CRDs off: add ${entry.release} to helmfile.d/00-crds`
          : 'no CRD in the bundle serves it: add the chart that defines it to helmfile.d/00-crds';
      out.push(`✗ ${what}: ${why}`);
      for (const file of entry.files) out.push(`    used by ${file}`);
    }
  }
  const bad = entries.filter((e) => e.status === 'missing' || e.status === 'core-only').length;
  out.push(`${entries.length} kinds used, ${bad} not served by the CRD phase`);
  return out.join('\n');
}
