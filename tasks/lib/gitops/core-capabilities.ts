// The core phase renders its releases against the cluster the crds phase left: the built-in APIs
// and the bundle's kinds, nothing the tree serves later. So a release that renders an object of a
// kind still unserved (a chart told to trust that the CRD exists: cilium's trustCRDsExist) makes
// helmfile sync fail with "no matches for kind", and an object a chart gates on a kind served only
// later is left out of the release core installs. Each core release is rendered as core installs it
// (the hand-off renders the same, so the chart store runs it once) and with everything the tree
// ever serves.
import type { KubernetesObject } from '@kubernetes/client-node';
import { servedApiVersions } from '../model/crd-bundle.ts';
import { groupOf } from '../runtime/manifests.ts';
import { loadObjects } from '../runtime/yaml.ts';
import type { Finding, TreeServedKind } from './flux-audit.ts';
import { asksCapabilities } from './capability-gated.ts';
import type { ChartStore } from './chart-store.ts';
import { counterpartOf, type CoreRelease } from './handover.ts';
import { toolSaid, type HelmReleaseSource } from './helmrelease-crds.ts';
import { objectName } from './manifest-diff.ts';

export interface CoreRenders {
  /** As core installs it: the built-in APIs and the bundle's kinds served. */
  atCore: KubernetesObject[];
  /** With every kind the tree ever serves. */
  atLast: KubernetesObject[];
}

/** Said at the HelmRelease that takes the release over, when the tree has one; else at 01-core. */
const whereOf = (release: CoreRelease, twin: HelmReleaseSource | undefined) => ({ type: 'capability-gated' as const, kustomization: twin?.kustomization ?? '', file: twin?.file ?? release.at.replace(/:\d+$/, '') });

/**
 * The findings for one core release. `builtin`: "apiVersion Kind" served without a CRD; `bundle`:
 * "group/version/Kind" the crds phase serves; `later`: what the tree serves after Flux starts.
 */
export function coreCapabilityFindings(release: CoreRelease, renders: CoreRenders, builtin: Set<string>, bundle: Set<string>, later: TreeServedKind[], twin: HelmReleaseSource | undefined): Finding[] {
  const id = `core release ${release.namespace}/${release.name} (${release.at})`;
  const where = whereOf(release, twin);
  const servedBy = (o: KubernetesObject) => later.find((k) => k.kind === o.kind && k.versions.some((v) => `${k.group}/${v}` === o.apiVersion));
  const who = (objects: KubernetesObject[]) => [...new Set(objects.map((o) => servedBy(o)?.by ?? 'nothing in the tree'))].join(', ');
  const kindsOf = (objects: KubernetesObject[]) => [...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))];
  const findings: Finding[] = [];
  const unserved = renders.atCore.filter((o) => !builtin.has(`${o.apiVersion} ${o.kind}`) && !bundle.has(`${o.apiVersion}/${o.kind}`));
  if (unserved.length) {
    findings.push({
      ...where,
      kind: kindsOf(unserved)[0]!,
      message: `${id} renders ${unserved.map(objectName).join(', ')}, whose kind ${kindsOf(unserved).join(', ')} the cluster does not serve after the crds phase (served by ${who(unserved)}): helmfile sync fails with "no matches for kind", and the bootstrap stops at core`,
      fix: `put the CRDs of ${[...new Set(unserved.map((o) => o.kind))].join(', ')} in helmfile.d/00-crds, or turn ${unserved.length > 1 ? 'those objects' : 'that object'} off in the release's values`,
    });
  }
  const identity = (o: KubernetesObject) => `${o.apiVersion} ${objectName(o)}`;
  const had = new Set(renders.atCore.map(identity));
  const gated = renders.atLast.filter((o) => !had.has(identity(o)));
  if (gated.length) {
    // The kinds it checks are, as a rule, the gated objects' own custom kinds.
    const custom = gated.filter((o) => groupOf(o.apiVersion) !== '' && !builtin.has(`${o.apiVersion} ${o.kind}`));
    const checked = custom.length ? custom : gated;
    findings.push({
      ...where,
      severity: 'warn',
      ...(custom[0] ? { kind: `${custom[0].apiVersion} ${custom[0].kind}` } : {}),
      message: `${id} renders ${gated.map(objectName).join(', ')} only where ${kindsOf(checked).join(', ')} is served (by ${who(checked)}), which the crds phase does not serve: core installs the release without ${gated.length > 1 ? 'them' : 'it'}, and helm-controller's upgrade at the hand-off renders ${gated.length > 1 ? 'them' : 'it'} only if the kind is served by then`,
      fix: `put the CRDs of ${[...new Set(checked.map((o) => o.kind))].join(', ')} in helmfile.d/00-crds`,
    });
  }
  return findings;
}

/** A chart that refuses to render without a kind the crds phase does not serve (cilium without trustCRDsExist). */
function refusedAtCore(release: CoreRelease, said: string, twin: HelmReleaseSource | undefined): Finding {
  return {
    ...whereOf(release, twin),
    message: `core release ${release.namespace}/${release.name} (${release.at}) does not render with what the crds phase serves (${said}), but does once the tree serves its later kinds: helmfile sync fails, and the bootstrap stops at core`,
    fix: "put the CRDs the chart asks for in helmfile.d/00-crds, or change the release's values so that it does not ask",
  };
}

/** Renders each core release as core installs it and with everything served, and judges it. */
export async function coreCapabilities(core: CoreRelease[], tree: HelmReleaseSource[], builtin: Set<string>, bundleApiVersions: string[], later: TreeServedKind[], charts: ChartStore): Promise<Finding[]> {
  const bundle = new Set(bundleApiVersions);
  const full = [...new Set([...bundleApiVersions, ...servedApiVersions(later)])];
  const findings = await Promise.all(
    core.map(async (release) => {
      const chart = { url: `oci://${release.chart}`, version: release.version };
      const render = (apiVersions: string[], side: string) =>
        charts
          .render({ chart, releaseName: release.name, namespace: release.namespace, values: release.values, apiVersions, subject: `core release ${release.namespace}/${release.name} (${release.at})`, logName: `core-capabilities-${release.name}-${side}` })
          .then(loadObjects);
      const settle = (p: Promise<KubernetesObject[]>) => p.then((objects) => ({ objects }), (error: unknown) => ({ failed: toolSaid(error) }));
      // A chart that never looks at the API versions renders the same either way.
      const asks = full.length > bundleApiVersions.length && (await asksCapabilities(charts, chart));
      const [atCore, atLast] = await Promise.all([settle(render(bundleApiVersions, 'core')), asks ? settle(render(full, 'everything')) : undefined]);
      const twin = counterpartOf(release, tree).twin;
      // A release that does not render either way is the hand-off's and the core phase's to report.
      if ('failed' in atCore) return atLast && !('failed' in atLast) ? [refusedAtCore(release, atCore.failed, twin)] : [];
      return coreCapabilityFindings(release, { atCore: atCore.objects, atLast: atLast && !('failed' in atLast) ? atLast.objects : atCore.objects }, builtin, bundle, later, twin);
    }),
  );
  return findings.flat();
}
