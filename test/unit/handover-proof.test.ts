// The rehearsal's proof of the hand-off (pure): Flux's doing to each core release, by revision
// and manifest, against the audit's verdict.
import { describe, expect, it } from 'vitest';
import type { Handover } from '../../tasks/lib/gitops/handover.ts';
import { handoverDiffers, proveHandover, type ReleaseState } from '../../tasks/lib/rehearsal/handover-proof.ts';

const handover = (release: string, verdict: Handover['verdict'], hr = release): Handover => ({
  release,
  at: 'helmfile.d/01-core.yaml.gotmpl:1',
  verdict,
  values: [],
  intended: [],
  ...(verdict === 'none' ? {} : { helmRelease: { id: hr, file: 'x', kustomization: hr, releaseName: hr.split('/')[1]!, storageNamespace: hr.split('/')[0]! } }),
});
const state = (revision: number, manifest: string): ReleaseState => ({ revision, manifest });

describe('proveHandover', () => {
  it('unchanged agrees when Flux took the release over (a new revision: helm-controller upgrades what it did not install) with the same manifest', () => {
    const [p] = proveHandover([handover('flux-system/flux-instance', 'unchanged')], new Map([['flux-system/flux-instance', state(1, 'a')]]), new Map([['flux-system/flux-instance', state(2, 'a')]]), new Set());
    expect(p).toMatchObject({ agreed: true, before: 1, after: 2, manifestChanged: false });
  });

  it('unchanged with a changed manifest differs', () => {
    const [p] = proveHandover([handover('a/x', 'unchanged')], new Map([['a/x', state(1, 'a')]]), new Map([['a/x', state(2, 'b')]]), new Set());
    expect(handoverDiffers(p!)).toBe(true);
  });

  it('an upgrade agrees with a changed manifest; values that render the same manifest are noted, not a difference', () => {
    const [changed] = proveHandover([handover('a/x', 'upgrade')], new Map([['a/x', state(1, 'a')]]), new Map([['a/x', state(2, 'b')]]), new Set());
    expect(changed!.agreed).toBe(true);
    const [same] = proveHandover([handover('a/x', 'upgrade')], new Map([['a/x', state(1, 'a')]]), new Map([['a/x', state(2, 'a')]]), new Set());
    expect(same).toMatchObject({ agreed: false, note: expect.stringContaining('renders the same manifest') });
    expect(handoverDiffers(same!)).toBe(false);
  });

  it('an upgrade whose manifests the audit rendered: the manifest must change exactly when the renders differ', () => {
    const renderedSame: Handover = { ...handover('a/x', 'upgrade'), manifest: { added: [], removed: [], changed: [] } };
    const renderedChanged: Handover = { ...handover('a/x', 'upgrade'), manifest: { added: [], removed: [], changed: ['Deployment a/x'] } };
    const before = new Map([['a/x', state(1, 'a')]]);
    expect(proveHandover([renderedSame], before, new Map([['a/x', state(2, 'a')]]), new Set())[0]).toMatchObject({ agreed: true });
    expect(handoverDiffers(proveHandover([renderedSame], before, new Map([['a/x', state(2, 'b')]]), new Set())[0]!)).toBe(true);
    expect(proveHandover([renderedChanged], before, new Map([['a/x', state(2, 'b')]]), new Set())[0]).toMatchObject({ agreed: true });
    expect(handoverDiffers(proveHandover([renderedChanged], before, new Map([['a/x', state(2, 'a')]]), new Set())[0]!)).toBe(true);
  });

  it('a second release leaves core\'s alone: agreed only if its revision did not move', () => {
    const before = new Map([['spegel/spegel', state(1, 'a')]]);
    expect(proveHandover([handover('spegel/spegel', 'second-release', 'kube-system/spegel')], before, new Map([['spegel/spegel', state(1, 'a')]]), new Set())[0]!.agreed).toBe(true);
    expect(handoverDiffers(proveHandover([handover('spegel/spegel', 'second-release', 'kube-system/spegel')], before, new Map([['spegel/spegel', state(2, 'b')]]), new Set())[0]!)).toBe(true);
  });

  it('a HelmRelease the rehearsal did not install is not judged', () => {
    const [p] = proveHandover([handover('kube-system/coredns', 'upgrade')], new Map([['kube-system/coredns', state(1, 'a')]]), new Map([['kube-system/coredns', state(1, 'a')]]), new Set(['kube-system/coredns']));
    expect(p).toMatchObject({ agreed: false, unjudged: true });
    expect(handoverDiffers(p!)).toBe(false);
  });
});
