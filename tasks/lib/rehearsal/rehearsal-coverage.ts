// How much of the tree Flux really reconciled in a rehearsal, said before anything else: a
// Kustomization is Ready only because it does not wait, while its HelmRelease was never
// installed, is counted apart (Ready, not rehearsed), never as proof.
import type { FluxKustomization } from '../gitops/flux-tree.ts';
import type { FluxVerdict } from './live-rehearsal.ts';
import type { StandinEvent } from './helm-standin.ts';

export interface Coverage {
  kustomizations: { ready: number; reached: number; total: number };
  helmReleases: { installed: number; total: number };
  /** Ready Kustomizations one of whose HelmReleases the rehearsal did not install. */
  readyNotRehearsed: Array<{ kustomization: string; release: string; message: string }>;
}

/** The HelmReleases each Kustomization applies (namespace/name), as the audit built it. */
function helmReleasesBy(kustomizations: FluxKustomization[]): Map<string, string> {
  const owner = new Map<string, string>();
  for (const k of kustomizations) {
    for (const { object } of k.objects) {
      if (object.kind === 'HelmRelease') owner.set(`${object.metadata?.namespace ?? k.namespace}/${object.metadata?.name}`, k.id);
    }
  }
  return owner;
}

/**
 * Each release's last event: where it ended. An earlier "not rehearsed" can be a moment's wait (its
 * chart source not applied yet) that a later install ended; counting it once made a hand-off Flux
 * did unjudged (CI, cilium).
 */
export const lastEvents = (events: StandinEvent[]): StandinEvent[] => [...new Map(events.map((e) => [e.release, e])).values()];

export function coverageOf(kustomizations: FluxKustomization[], verdicts: FluxVerdict[], events: StandinEvent[]): Coverage {
  const owner = helmReleasesBy(kustomizations);
  const last = lastEvents(events);
  const ready = new Set(verdicts.filter((v) => v.outcome !== 'not-ready').map((v) => v.kustomization));
  const readyNotRehearsed = last
    .filter((e) => !e.ready && e.notRehearsed && ready.has(owner.get(e.release) ?? ''))
    .map((e) => ({ kustomization: owner.get(e.release)!, release: e.release, message: e.message }));
  return {
    kustomizations: { ready: ready.size, reached: verdicts.length, total: new Set([...kustomizations.map((k) => k.id), ...verdicts.map((v) => v.kustomization)]).size },
    helmReleases: { installed: last.filter((e) => e.ready).length, total: owner.size },
    readyNotRehearsed,
  };
}

export const coverageLine = ({ kustomizations: k, helmReleases: h }: Coverage): string =>
  `Flux reconciled ${k.ready} of ${k.total} Kustomizations to Ready (${k.reached} reached) and installed ${h.installed} of ${h.total} HelmReleases`;
