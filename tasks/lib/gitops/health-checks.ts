// A health check only its controller can pass. spec.healthCheckExprs judges objects of a kind by
// the status their controller writes (cert-manager marks a ClusterIssuer Ready); Flux evaluates the
// expression on an object with no status as an error and keeps waiting (runtime/cel
// status_evaluator.go: Unknown, then the Kustomization's timeout). So a Kustomization that checks
// such objects while their controller is not running yet fails, and retries every retryInterval;
// if the controller is installed only behind it (a Kustomization that depends on it), it is never
// Ready. The controller of a kind is the release whose chart carries its CRD (or the operator that
// registers its group), never a chart of CRDs alone; it is running when core installed it, or when
// its HelmRelease is applied by this Kustomization or a dependency Flux has seen Ready.
import type { OperatorSpec } from '../model/config.ts';
import { awaitedDependencies, splitApiVersion, transitiveDependencies, waitsFor, type BootstrapRelease, type Finding } from './flux-audit.ts';
import { chartName } from './handover.ts';
import type { FluxKustomization } from './flux-tree.ts';
import type { HelmReleaseCrds } from './helmrelease-crds.ts';

interface Controller {
  /** Where it runs: the core phase, or a HelmRelease of the tree. */
  core?: string;
  helmRelease?: HelmReleaseCrds;
}

const groupOf = (apiVersion: string) => splitApiVersion(apiVersion)[0];
/** Whether the release's chart carries the CRD of `kind` (any kind of `group` when kind is empty). */
const carries = (hr: HelmReleaseCrds, group: string, kind: string | undefined) => hr.crds.some((c) => c.group === group && (!kind || c.kind === kind));

/** Who sets the status of `kind` (any kind of `group` when kind is empty), or nothing when the tree does not say. */
function controllersOf(group: string, kind: string | undefined, helmReleases: HelmReleaseCrds[], bootstrap: BootstrapRelease[], operators: OperatorSpec[]): Controller[] {
  // A chart of CRDs alone (prometheus-operator-crds) serves the kind; it writes no status.
  const carriers = helmReleases.filter((hr) => !hr.crdsOnly && carries(hr, group, kind));
  const operator = operators.find((o) => o.groups.includes(group));
  const runners = operator ? helmReleases.filter((hr) => hr.name === operator.release) : [];
  const core = bootstrap.filter((r) => r.installed && (carriers.some((hr) => !('unresolved' in hr.chart) && chartName(hr.chart.url) === chartName(r.chart)) || r.name === operator?.release));
  return [...core.map((r) => ({ core: r.name })), ...[...carriers, ...runners].map((hr) => ({ helmRelease: hr }))];
}

export function healthCheckFindings(kustomizations: FluxKustomization[], helmReleases: HelmReleaseCrds[], bootstrap: BootstrapRelease[], operators: OperatorSpec[]): Finding[] {
  const byId = new Map(kustomizations.map((k) => [k.id, k]));
  const findings: Finding[] = [];
  for (const k of kustomizations) {
    for (const check of k.healthCheckExprs ?? []) {
      const group = groupOf(check.apiVersion);
      const checked = k.objects.filter(({ object: o }) => groupOf(o.apiVersion ?? '') === group && (!check.kind || o.kind === check.kind) && (k.wait || k.healthChecks.includes(`${o.kind} ${o.metadata?.namespace ?? k.namespace}/${o.metadata?.name}`)));
      if (!checked.length) continue;
      const controllers = controllersOf(group, check.kind, helmReleases, bootstrap, operators);
      const awaited = awaitedDependencies(k.id, byId);
      const running = (c: Controller) => c.core || (c.helmRelease && (c.helmRelease.kustomization === k.id ? k.wait : awaited.has(c.helmRelease.kustomization) && waitsFor(byId.get(c.helmRelease.kustomization)!, c.helmRelease)));
      const later = controllers.map((c) => c.helmRelease).filter((hr) => hr !== undefined);
      const what = `${check.kind ?? `every kind of ${group}`} (${checked.map(({ object: o }) => o.metadata?.name).join(', ')})`;
      const crdsOnly = helmReleases.filter((hr) => hr.crdsOnly && carries(hr, group, check.kind));
      if (!controllers.length && crdsOnly.length) {
        findings.push({
          type: 'health-check',
          severity: 'warn',
          kustomization: k.id,
          file: checked[0]!.file,
          kind: `${check.apiVersion} ${check.kind ?? '*'}`,
          message: `${k.id} checks the health of ${what} by healthCheckExprs, which only their controller can pass; the tree serves the kind from a chart of CRDs alone (${crdsOnly.map((hr) => `HelmRelease ${hr.namespace}/${hr.name}`).join(', ')}), which runs no controller, so the audit cannot tell when the controller runs`,
          fix: `make sure ${k.id} depends (with wait: true) on the Kustomization of the release that runs the controller of ${group}`,
        });
        continue;
      }
      if (!later.length || controllers.some(running)) continue;
      const hr = later[0]!;
      const behind = transitiveDependencies(hr.kustomization, byId).has(k.id);
      const release = `HelmRelease ${hr.namespace}/${hr.name} in ${hr.kustomization}`;
      findings.push({
        type: 'health-check',
        kustomization: k.id,
        file: checked[0]!.file,
        kind: `${check.apiVersion} ${check.kind ?? '*'}`,
        message: behind
          ? `${k.id} checks the health of ${what} by healthCheckExprs, which only their controller can pass, and its controller (${release}) is installed only after ${k.id} is Ready: it waits forever`
          : `${k.id} checks the health of ${what} by healthCheckExprs before their controller (${release}) is running: it fails until that release is installed, then on a retry (retryInterval)`,
        fix: behind
          ? `remove the dependsOn that puts ${hr.kustomization} behind ${k.id}, and add dependsOn ${hr.kustomization} to ${k.id} (with wait: true there), or install the controller in helmfile.d/01-core`
          : `add dependsOn ${hr.kustomization} to ${k.id} (with wait: true there), or install the controller in helmfile.d/01-core`,
      });
    }
  }
  return findings;
}
