// Flux's CEL, checked before any cluster. Real trees gate layers on CEL: a Kustomization's or
// HelmRelease's spec.healthCheckExprs (how an object of a custom kind counts as healthy), and
// spec.dependsOn[].readyExpr (Flux 2.7: when a dependency counts as ready). An expression Flux
// cannot parse or type-check stops the object for good: kustomize-controller stalls the
// Kustomization (InvalidCELExpression), and a readyExpr error is terminal when the dependency is
// checked. Flux's own CEL code judges each one (fluxCheckCel), so the message is Flux's.
import type { KubernetesObject } from '@kubernetes/client-node';
import { fluxCheckCel, type CelCheck } from '../tools/flux-build.ts';
import { waitsFor, type Finding } from './flux-audit.ts';
import type { FluxKustomization } from './flux-tree.ts';

interface Spec { healthCheckExprs?: unknown; dependsOn?: Array<{ name?: string; namespace?: string; readyExpr?: unknown }> }
type FluxObject = KubernetesObject & { spec?: Spec };

/** Where an expression sits, and what its failure takes down. */
interface CelSite {
  check: CelCheck;
  object: string;
  field: string;
  /** The Kustomization that fails: the object itself, or the one that applies the HelmRelease. */
  kustomization: string;
  file: string;
  contained: boolean;
}

const isKind = (o: KubernetesObject, group: string, kind: string) => o.kind === kind && (o.apiVersion ?? '').startsWith(`${group}/`);

/** Every CEL expression the tree's Kustomizations apply, each with the object and field it sits in. */
export function celSites(kustomizations: FluxKustomization[]): CelSite[] {
  const byId = new Map(kustomizations.map((k) => [k.id, k]));
  const sites: CelSite[] = [];
  for (const parent of kustomizations) {
    for (const { object, file } of parent.objects as Array<{ object: FluxObject; file: string }>) {
      const isKustomization = isKind(object, 'kustomize.toolkit.fluxcd.io', 'Kustomization');
      if (!isKustomization && !isKind(object, 'helm.toolkit.fluxcd.io', 'HelmRelease')) continue;
      const namespace = object.metadata?.namespace ?? parent.namespace;
      const id = `${namespace}/${object.metadata?.name}`;
      // A Kustomization fails itself; a HelmRelease fails the Kustomization that applies it only when that one waits for it.
      const own = isKustomization && byId.has(id);
      const failing = own ? id : parent.id;
      const contained = !own && !(!isKustomization && waitsFor(parent, { name: object.metadata?.name ?? '', namespace }));
      const at = { object: `${object.kind} ${id}`, kustomization: failing, file, contained };
      const spec = object.spec ?? {};
      if (Array.isArray(spec.healthCheckExprs) && spec.healthCheckExprs.length) {
        sites.push({ ...at, field: 'spec.healthCheckExprs', check: { id: `${sites.length}`, healthCheckExprs: spec.healthCheckExprs } });
      }
      (spec.dependsOn ?? []).forEach((dep, i) => {
        if (typeof dep?.readyExpr === 'string' && dep.readyExpr.trim()) sites.push({ ...at, field: `spec.dependsOn[${i}].readyExpr`, check: { id: `${sites.length}`, readyExpr: dep.readyExpr } });
      });
    }
  }
  return sites;
}

const CONSEQUENCE: Record<string, string> = {
  Kustomization: 'kustomize-controller stalls it (InvalidCELExpression) and never applies it',
  HelmRelease: 'helm-controller never installs it',
};

/** A `cel` finding for each expression Flux refuses, naming the object, the file and the field. */
export async function celFindings(kustomizations: FluxKustomization[], cluster: string): Promise<Finding[]> {
  const sites = celSites(kustomizations);
  const errors = await fluxCheckCel(cluster, sites.map((s) => s.check));
  return sites.flatMap((site): Finding[] => {
    const error = errors.get(site.check.id)?.error;
    if (!error) return [];
    const kind = site.object.split(' ')[0]!;
    return [{
      type: 'cel',
      kustomization: site.kustomization,
      file: site.file,
      message: `${site.object} ${site.field}: Flux refuses the expression (${error}); ${site.field.endsWith('readyExpr') ? 'the dependency check fails for good, so ' : ''}${CONSEQUENCE[kind]}${site.contained ? ` (its Kustomization ${site.kustomization} does not wait for it, and is Ready anyway)` : ''}`,
      fix: `fix ${site.field} in ${site.file}: healthCheckExprs are read with the object's fields at the top (status.conditions…); readyExpr must be a bool over self and dep (dep.status.conditions…)`,
      ...(site.contained ? { contained: true as const } : {}),
    }];
  });
}
