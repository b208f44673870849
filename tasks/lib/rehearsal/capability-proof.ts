// The audit's capability-gated findings against the rehearsal: the helm stand-in installs with
// real helm against the throwaway API server, so the chart sees the kinds served at that moment,
// as helm-controller's render does. An object the audit says a release never creates must be
// absent once Flux settled; a release the audit says fails to render must have failed.
import type { Finding, GatedObject } from '../gitops/flux-audit.ts';
import { objectName } from '../gitops/manifest-diff.ts';
import type { StandinEvent } from './helm-standin.ts';

export interface CapabilityProof {
  helmRelease: string;
  kustomization: string;
  /** What the audit said: the objects it never creates, or that its install fails. */
  audit: string;
  /** What the rehearsal saw: each object's presence, or the install's outcome. */
  rehearsal: string;
  agreed: boolean;
  /** The release was never installed here (blocked, or not rehearsed): nothing to compare. */
  unjudged?: true;
}

export const gatedObjectName = (o: GatedObject) => objectName({ kind: o.kind, metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) } });

/**
 * One proof per capability-gated finding. `exists` reads an object in the rehearsal's cluster;
 * `outcomes` holds each release's last stand-in event.
 */
export async function proveCapabilities(findings: Finding[], outcomes: StandinEvent[], exists: (o: GatedObject) => Promise<boolean>): Promise<CapabilityProof[]> {
  const last = new Map(outcomes.map((e) => [e.release, e]));
  return Promise.all(
    findings.flatMap((f) => (f.type === 'capability-gated' && f.gated ? [{ f, gated: f.gated }] : [])).map(async ({ f, gated }): Promise<CapabilityProof> => {
      const outcome = last.get(gated.helmRelease);
      const base = { helmRelease: gated.helmRelease, kustomization: f.kustomization };
      if (!gated.objects.length) {
        const audit = 'its install fails (the chart does not render without the kind)';
        if (!outcome || outcome.notRehearsed) return { ...base, audit, rehearsal: outcome ? `not rehearsed: ${outcome.message}` : 'never installed', agreed: false, unjudged: true };
        return { ...base, audit, rehearsal: outcome.ready ? 'installed' : `install failed: ${outcome.message}`, agreed: !outcome.ready };
      }
      const audit = `never creates ${gated.objects.map(gatedObjectName).join(', ')}`;
      if (!outcome?.ready) return { ...base, audit, rehearsal: outcome ? `not installed: ${outcome.message}` : 'never installed', agreed: false, unjudged: true };
      const present = await Promise.all(gated.objects.map(exists));
      const found = gated.objects.filter((_, i) => present[i]);
      return { ...base, audit, rehearsal: found.length ? `installed, and created ${found.map(gatedObjectName).join(', ')}` : 'installed without them', agreed: !found.length };
    }),
  );
}

export function formatCapabilityProof(proofs: CapabilityProof[]): string[] {
  return proofs.map((p) => `  ${p.agreed ? 'agreed  ' : p.unjudged ? 'unjudged' : 'DIFFERS '} HelmRelease ${p.helmRelease}: audit ${p.audit}; rehearsal ${p.rehearsal}`);
}
