// Drift: how live CRDs differ from the bundle in one cluster, and the same CRD from different
// chart versions across clusters (and, found by the drift task, objects of core releases gone
// from the cluster). Pure: the drift task gathers the inputs.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SOURCE_ANNOTATION } from '../model/crd-bundle.ts';
import type { CrdPlan } from './crd-plan.ts';

export type DriftKind = 'missing' | 'differs' | 'unmanaged' | 'orphaned' | 'version-skew' | 'missing-object';

export interface DriftFinding {
  kind: DriftKind;
  /** The CRD's name, or for missing-object the object ("Deployment cert-manager/cert-manager"). */
  subject: string;
  detail: string;
}

const HELM_RELEASE_ANNOTATION = 'meta.helm.sh/release-name';

export function clusterDrift(plan: CrdPlan, live: KubernetesObject[], bundleNames: Set<string>, managedByUs: (o: KubernetesObject) => boolean): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const entry of plan.entries) {
    if (entry.action === 'create') findings.push({ kind: 'missing', subject: entry.name, detail: `in the bundle (${entry.release}) but not in the cluster` });
    if (entry.action === 'update' || entry.action === 'breaking') {
      findings.push({ kind: 'differs', subject: entry.name, detail: 'live spec differs from the bundle (edited by hand, or the bundle changed since the last crds run)' });
    }
  }
  for (const name of plan.orphaned) findings.push({ kind: 'orphaned', subject: name, detail: 'applied by this tool earlier, no longer in the bundle' });
  for (const object of live) {
    const name = object.metadata?.name ?? '';
    if (bundleNames.has(name) || managedByUs(object)) continue;
    const helmRelease = object.metadata?.annotations?.[HELM_RELEASE_ANNOTATION];
    if (!helmRelease) findings.push({ kind: 'unmanaged', subject: name, detail: 'in the cluster from no release (neither this bundle nor a Helm release)' });
  }
  return findings.sort((a, b) => a.subject.localeCompare(b.subject) || a.kind.localeCompare(b.kind));
}

/** The same CRD stamped with different sources (release@chartVersion) in different clusters. */
export function versionSkew(clusterName: string, sources: Map<string, Map<string, string>>): DriftFinding[] {
  const mine = sources.get(clusterName) ?? new Map<string, string>();
  const findings: DriftFinding[] = [];
  for (const [crd, source] of mine) {
    const others = [...sources].filter(([name, crds]) => name !== clusterName && crds.has(crd) && crds.get(crd) !== source);
    if (others.length > 0) {
      findings.push({ kind: 'version-skew', subject: crd, detail: `${clusterName} has ${source}; ${others.map(([name, crds]) => `${name} has ${crds.get(crd)}`).join(', ')}` });
    }
  }
  return findings.sort((a, b) => a.subject.localeCompare(b.subject));
}

export function liveSources(live: KubernetesObject[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const object of live) {
    const source = object.metadata?.annotations?.[SOURCE_ANNOTATION];
    if (source) sources.set(object.metadata!.name!, source);
  }
  return sources;
}

export function formatDrift(clusterName: string, findings: DriftFinding[]): string {
  if (findings.length === 0) return `${clusterName}: no drift`;
  const width = Math.max(...findings.map((f) => f.kind.length));
  return [...findings.map((f) => `${f.kind.padEnd(width)}  ${f.subject}  ${f.detail}`), `${clusterName}: ${findings.length} finding(s)`].join('\n');
}
