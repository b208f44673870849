// The from-empty rehearsal (audit) on the example tree and on variants of it: each variant is a
// copy of kubernetes/ in a fresh temporary folder, judged with --gitops-root; the tracked tree is
// never edited. The race variant moves the Prometheus CRD chart out of helmfile.d/00-crds of a
// workspace copy.
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { paths } from '../../tasks/lib/runtime/workspace.ts';
import { versionLine } from '../../tasks/lib/tools/chart-pins.ts';
import { run } from '../helpers/sandbox.ts';
import { removeTreeVariants, treeVariant } from '../helpers/tree-variant.ts';
import { dropRelease, publishVariant, withCrdsHelmfile } from '../helpers/variants.ts';



const audit = (root: string) => run`node tasks/audit.ts --cluster infra --gitops-root ${root}`;

afterAll(removeTreeVariants);

describe('rehearsal of Flux from an empty cluster', () => {
  it('prints every layer of the example tree in order, with Flux kinds served by flux-operator at run time', async () => {
    const result = await run`nx run infra:audit --outputStyle=stream`;
    const output = result.stdout + result.stderr;
    expect(result.exitCode, output).toBe(0);
    expect(output.indexOf('Layer 0')).toBeLessThan(output.indexOf('Layer 1'));
    expect(output.indexOf('Layer 1')).toBeLessThan(output.indexOf('Layer 2'));
    expect(output).toContain('  default/echo  after external-secrets/external-secrets-stores');
    expect(output).toContain('    ✔ helm.toolkit.fluxcd.io/v2 HelmRelease: at run time by flux-operator (bootstrap release flux-operator)');
    expect(output).toContain('    ✔ cilium.io/v2 CiliumLoadBalancerIPPool: at run time by cilium-operator (bootstrap release cilium)');
    // A kind only a later layer's HelmRelease installs is served to the Kustomization that waits for it.
    expect(output).toContain('    ✔ observability.giantswarm.io/v1alpha2 Silence: HelmRelease observability/silence-operator in observability/silence-operator (install.crds CreateReplace, upgrade.crds CreateReplace)');
    expect(output).not.toContain('kustomize.config.k8s.io');
    expect(output).toMatch(/18 Kustomizations in 3 layers, \d+ kinds, 0 findings/);
  });

  it('--verbose names the files it did not judge: build inputs, config files and files no Kustomization reaches', async () => {
    const result = await run`node tasks/audit.ts --cluster infra --verbose`;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('    build input: kubernetes/apps/default/echo/app/resources/config.yaml');
    expect(result.stdout).toContain('    build input: kubernetes/components/common/kustomization.yaml');
    expect(result.stdout).toContain('    not applied by Flux: kubernetes/apps/observability/rules/app/old-openebs-rule.yaml');
    const json = JSON.parse((await run`node tasks/audit.ts --cluster infra --json`).stdout) as { files: { unreferenced: string[] } };
    expect(json.files.unreferenced).toEqual(['kubernetes/apps/observability/rules/app/old-openebs-rule.yaml']);
  });

  it('race: with the Prometheus CRD chart moved from 00-crds to a later HelmRelease, every PrometheusRule user is named', async () => {
    await withCrdsHelmfile(dropRelease('prometheus-operator-crds'), async (copy) => {
      const render = await copy.run`nx run infra:render-crds --outputStyle=stream`;
      expect(render.exitCode, render.stdout + render.stderr).toBe(0);
      const result = await copy.run`node tasks/audit.ts --cluster infra`;
      const output = result.stdout;
      expect(result.exitCode, result.stderr).toBe(1);
      expect(output).toContain(
        '  ✗ race: kube-system/coredns applies monitoring.coreos.com/v1 PrometheusRule, whose CRD HelmRelease observability/prometheus-operator-crds installs in observability/prometheus-operator-crds, which kube-system/coredns does not depend on\n' +
          '      Kustomization kube-system/coredns, kubernetes/apps/kube-system/coredns/app/prometheusrule.yaml\n' +
          '      fix: add dependsOn observability/prometheus-operator-crds to kube-system/coredns (observability/prometheus-operator-crds has wait: true), or move the chart to helmfile.d/00-crds',
      );
      expect(output).toContain('  ✗ race: kube-system/coredns applies monitoring.coreos.com/v1 ServiceMonitor');
      expect(output).toContain('  ✗ race: cert-manager/cert-manager applies monitoring.coreos.com/v1 PrometheusRule');
      // external-secrets' chart renders its ServiceMonitor only where the kind is served: with the
      // CRDs no longer in the crds phase, helm-controller installs it without one, for good.
      expect(output).toContain(
        '  ✗ capability-gated: HelmRelease external-secrets/external-secrets renders Service external-secrets/external-secrets-metrics, ServiceMonitor external-secrets/external-secrets-metrics only where monitoring.coreos.com/v1 ServiceMonitor (HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds) is served, which is not yet when external-secrets/external-secrets applies; helm-controller renders a release once, so they are never created\n' +
          '      Kustomization external-secrets/external-secrets, kubernetes/apps/external-secrets/external-secrets/app/helmrelease.yaml\n' +
          '      fix: put the CRDs of ServiceMonitor in helmfile.d/00-crds (served before any Kustomization), or add dependsOn observability/prometheus-operator-crds to external-secrets/external-secrets (waiting for it)',
      );
      // cilium's chart trusts the CRD to exist (trustCRDsExist, as real trees set it): no finding for
      // Flux's render, but core installs cilium before the tree serves the kind, and helm refuses it.
      expect(output).not.toContain('capability-gated: HelmRelease kube-system/cilium');
      expect(output).toContain(
        '  ✗ capability-gated: core release kube-system/cilium (helmfile.d/01-core.yaml.gotmpl:22) renders ServiceMonitor kube-system/cilium-agent, whose kind monitoring.coreos.com/v1 ServiceMonitor the cluster does not serve after the crds phase (served by HelmRelease observability/prometheus-operator-crds in observability/prometheus-operator-crds): helmfile sync fails with "no matches for kind", and the bootstrap stops at core\n' +
          '      Kustomization kube-system/cilium, kubernetes/apps/kube-system/cilium/app/helmrelease.yaml\n' +
          "      fix: put the CRDs of ServiceMonitor in helmfile.d/00-crds, or turn that object off in the release's values",
      );
    });
  });

  it('capability-gated, a second kind: cilium\'s GatewayClass (gatewayClass.create auto) when the Gateway API CRDs come with cilium-config, after cilium: Flux\'s render and core\'s both leave it out', async () => {
    const crd = await readFile('test/fixtures/gateway-api/gateway.networking.k8s.io_gatewayclasses.yaml', 'utf8');
    const root = await treeVariant({
      // One values file for core's release and the HelmRelease, as real trees keep it.
      'apps/kube-system/cilium/app/helm/values.yaml': (t) => `${t}gatewayAPI:\n  enabled: true\n`,
      'apps/kube-system/cilium/config/gateway-api-crds.yaml': () => crd,
      'apps/kube-system/cilium/config/kustomization.yaml': (t) => t.replace('  - ./l2.yaml\n', '  - ./gateway-api-crds.yaml\n  - ./l2.yaml\n'),
    });
    const result = await audit(root);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      '  ✗ capability-gated: HelmRelease kube-system/cilium renders GatewayClass cilium only where gateway.networking.k8s.io/v1 GatewayClass (a CRD in kube-system/cilium-config) is served, which is not yet when kube-system/cilium applies; helm-controller renders a release once, so it is never created\n' +
        '      Kustomization kube-system/cilium, kubernetes/apps/kube-system/cilium/app/helmrelease.yaml\n' +
        '      fix: put the CRDs of GatewayClass in helmfile.d/00-crds (served before any Kustomization), or add dependsOn kube-system/cilium-config to kube-system/cilium (waiting for it)',
    );
    expect(result.stdout).toContain(
      "  ! capability-gated: core release kube-system/cilium (helmfile.d/01-core.yaml.gotmpl:22) renders GatewayClass cilium only where gateway.networking.k8s.io/v1 GatewayClass is served (by a CRD in kube-system/cilium-config), which the crds phase does not serve: core installs the release without it, and helm-controller's upgrade at the hand-off renders it only if the kind is served by then",
    );
  });

  it('cycle: two Kustomizations that depend on each other never start', async () => {
    const root = await treeVariant({
      'apps/cert-manager/cert-manager/ks.yaml': (t) =>
        t.replace('  name: &app cert-manager\nspec:\n', '  name: &app cert-manager\nspec:\n  dependsOn:\n    - name: cert-manager-issuers\n'),
    });
    const result = await audit(root);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain('  ✗ cycle: dependsOn cycle: cert-manager/cert-manager → cert-manager/cert-manager-issuers → cert-manager/cert-manager; none of them ever starts');
    expect(result.stdout).toContain('      Kustomization cert-manager/cert-manager, kubernetes/apps/cert-manager/cert-manager/ks.yaml');
    expect(result.stdout).toContain('Never starts (dependsOn cycle)');
  });

  it('version-skew: the tree pins another spegel than the bootstrap, a warning (gitops.pinSkew defaults to warn)', async () => {
    await publishVariant({ chart: 'spegel', from: '0.7.4', to: '0.7.5-e2e' });
    const root = await treeVariant({ 'apps/kube-system/spegel/app/ocirepository.yaml': (t) => t.replace('tag: 0.7.4', 'tag: 0.7.5-e2e') });
    const result = await audit(root);
    expect(result.exitCode, result.stderr).toBe(0);
    const line = versionLine(await readFile(paths.coreHelmfile, 'utf8'), 'spegel');
    expect(result.stdout).toContain(
      `  ! version-skew: helmfile.d/01-core.yaml.gotmpl:${line} pins spegel 0.7.4 for the bootstrap, the tree pins 0.7.5-e2e for HelmRelease kube-system/spegel: right after the bootstrap Flux moves the release to 0.7.5-e2e\n` +
        '      Kustomization kube-system/spegel, kubernetes/apps/kube-system/spegel/app/ocirepository.yaml',
    );
    // The skew, beside the hand-off's own warnings (each core release the tree sets other values for).
    expect(result.stdout).toMatch(/, 0 findings, \d+ warnings$/m);
    expect(result.stdout).toMatch(/! handover: core release kube-system\/spegel \(.*\) differs from HelmRelease kube-system\/spegel: Flux's first reconcile upgrades it right after the bootstrap \(version: 0\.7\.4 → 0\.7\.5-e2e; /);
  });

  it('hand-off: the example hands every core release over without a second release or CRDs changing hands; the tree as it was (cert-manager\'s CRD switch on) and a HelmRelease under another release name fail, naming both sides', async () => {
    const example = await run`node tasks/audit.ts --cluster infra --json`;
    expect(example.exitCode, example.stderr).toBe(0);
    const { handover, findings } = JSON.parse(example.stdout) as { handover: Array<{ release: string; verdict: string; helmRelease?: { id: string } }>; findings: unknown[] };
    // A clean hand-off: no finding, no warning.
    expect(findings).toEqual([]);
    // 01-core reads flux-instance's, cilium's, coredns', spegel's and external-secrets' values from
    // the tree; cert-manager's and flux-operator's differ in values that change no object.
    expect(Object.fromEntries(handover.map((h) => [h.release, h.verdict]))).toEqual({
      'flux-system/flux-instance': 'unchanged',
      'kube-system/cilium': 'unchanged',
      'kube-system/spegel': 'unchanged',
      'external-secrets/external-secrets': 'unchanged',
      'kube-system/coredns': 'upgrade',
      'cert-manager/cert-manager': 'upgrade',
      'flux-system/flux-operator': 'upgrade',
    });
    expect(handover.every((h) => h.verdict !== 'second-release' && h.verdict !== 'crd-ownership')).toBe(true);
    const line = (release: string) => versionLine(coreText, release);
    const coreText = await readFile(paths.coreHelmfile, 'utf8');
    const root = await treeVariant({
      'apps/cert-manager/cert-manager/app/helmrelease.yaml': (t) => t.replace('    crds:\n      enabled: false\n', '    crds:\n      enabled: true\n      keep: true\n'),
      'apps/kube-system/spegel/app/helmrelease.yaml': (t) => t.replace('spec:\n', 'spec:\n  releaseName: spegel-mirror\n'),
    });
    const result = await audit(root);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      // crds.keep: true is the chart's default: no difference once defaults are under both sides.
      "  ✗ handover: HelmRelease cert-manager/cert-manager turns on the chart's own CRD installation that core keeps off (crds.enabled: false → true; dns01RecursiveNameservers: ",
    );
    // Which CRDs change hands, from the chart's own render: crds.keep annotates all six.
    expect(result.stdout).toContain(
      'which keeps them if the switch is turned off again (CRDs helm-controller takes: certificaterequests.cert-manager.io, certificates.cert-manager.io, challenges.acme.cert-manager.io, clusterissuers.cert-manager.io, issuers.cert-manager.io, orders.acme.cert-manager.io (annotated helm.sh/resource-policy: keep, so they stay))',
    );
    expect(result.stdout).toContain('      Kustomization cert-manager/cert-manager, kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml\n      fix: keep the CRD switch off in kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml');
    expect(result.stdout).toContain(
      `  ✗ handover: HelmRelease kube-system/spegel manages release spegel-mirror in kube-system, but core installed kube-system/spegel (helmfile.d/01-core.yaml.gotmpl:${line('spegel')}): Flux installs a second release of the chart beside the bootstrap's`,
    );
    expect(result.stdout).toMatch(/✗ cert-manager\/cert-manager → cert-manager\/cert-manager \(kubernetes\/apps\/cert-manager\/cert-manager\/app\/helmrelease\.yaml\): crd-ownership/);
  });

  it('hand-off values as Flux resolves them: valuesFrom a generated ConfigMap (kustomize renames it), valuesFrom a Secret, and postBuild substitution, each changing what differs; charts render with the crds phase\'s APIs', async () => {
    type Handover = { release: string; values: Array<{ path: string; core: unknown; tree: unknown }>; intended: Array<{ path: string }>; manifest?: { changed: string[]; added: string[]; removed: string[] }; manifestUnrendered?: string };
    let handovers = new Map<string, Handover>();
    const handoverOf = async (root?: string) => {
      const result = root ? await run`node tasks/audit.ts --cluster infra --gitops-root ${root} --json` : await run`node tasks/audit.ts --cluster infra --json`;
      expect(result.exitCode, result.stderr).toBe(0);
      const { handover } = JSON.parse(result.stdout) as { handover: Handover[] };
      handovers = new Map(handover.map((h) => [h.release, h]));
      return new Map(handover.map((h) => [h.release, new Map(h.values.map((v) => [v.path, v]))]));
    };
    const example = await handoverOf();
    // Parity by construction: 01-core reads the files the tree's valuesFrom ConfigMaps are made from
    // (kustomize renames each with a hash suffix that its kustomizeconfig.yaml writes into valuesFrom).
    expect(example.get('kube-system/cilium')!.size).toBe(0);
    expect(example.get('kube-system/spegel')!.size).toBe(0);
    // The one difference left is the sandbox's, marked intended in cluster.yaml: listed, no warning.
    expect(handovers.get('kube-system/coredns')).toMatchObject({ values: [], intended: [{ path: 'service.clusterIP', tree: '10.43.0.10' }] });

    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: spegel-secret-values\nstringData:\n  values.yaml: |\n    service:\n      registry:\n        hostPort: 30020\n';
    const root = await treeVariant({
      // The cluster's name substituted from cluster-settings, as real trees write it: Flux substitutes
      // the ConfigMap made from the file, 01-core reads the judged tree's file as it is.
      // And its ServiceMonitor without trustCRDsExist: the chart then renders it only where
      // monitoring.coreos.com/v1 is served, which the crds phase makes so before Flux starts (both sides read it).
      'apps/kube-system/cilium/app/helm/values.yaml': (t) => t.replace('  name: home\n', '  name: ${CLUSTER_NAME}\n').replace('    trustCRDsExist: true\n', ''),
      'components/common/cluster-settings.yaml': (t) => t.replace('CLUSTER_NAME: home', 'CLUSTER_NAME: infra'),
      // spegel's hostPort from a Secret of the tree, after its ConfigMap: the later source wins.
      'apps/kube-system/spegel/app/secret.yaml': () => secret,
      'apps/kube-system/spegel/app/kustomization.yaml': (t) => t.replace('  - ./helmrelease.yaml\n', '  - ./helmrelease.yaml\n  - ./secret.yaml\n'),
      'apps/kube-system/spegel/app/helmrelease.yaml': (t) => `${t}    - kind: Secret\n      name: spegel-secret-values\n`,
    });
    const variant = await handoverOf(root);
    expect([...variant.get('kube-system/cilium')!.values()]).toEqual([{ path: 'cluster.name', core: '${CLUSTER_NAME}', tree: 'infra' }]);
    // Rendered with the crds phase's APIs, the ServiceMonitor is there on both sides: only cilium-config changes.
    expect(handovers.get('kube-system/cilium')).toMatchObject({ manifest: { changed: ['ConfigMap kube-system/cilium-config'], added: [], removed: [] } });
    expect(handovers.get('kube-system/cilium')!.manifestUnrendered).toBeUndefined();
    expect(variant.get('kube-system/spegel')!.get('service.registry.hostPort')).toEqual({ path: 'service.registry.hostPort', core: 29999, tree: 30020 });
    expect([...variant.get('kube-system/spegel')!.keys()]).toEqual(['service.registry.hostPort']);
  });

  it('missing: a kind nothing provides is named with its file and the fix', async () => {
    const route = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: echo\nspec:\n  hostnames: ["echo.${SECRET_DOMAIN}"]\n';
    const root = await treeVariant({
      'apps/default/echo/app/httproute.yaml': () => route,
      'apps/default/echo/app/kustomization.yaml': (t) => t.replace('  - ./externalsecret.yaml\n', '  - ./externalsecret.yaml\n  - ./httproute.yaml\n'),
    });
    const result = await audit(root);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      '  ✗ missing: nothing provides gateway.networking.k8s.io/v1 HTTPRoute: no CRD in the bundle, the tree or its HelmReleases serves it, and no operator declares its group\n' +
        '      Kustomization default/echo, kubernetes/apps/default/echo/app/httproute.yaml\n' +
        '      fix: add the chart that defines it to helmfile.d/00-crds, or declare the operator that registers gateway.networking.k8s.io in cluster.yaml gitops.operators (or gitops.platformGroups when the platform itself serves it)',
    );
  });

  it('a broken kustomization.yaml is reported with kustomize’s own message, not as a crash', async () => {
    const root = await treeVariant({ 'apps/default/echo/app/kustomization.yaml': (t) => t.replace('./service.yml', './service-gone.yml') });
    const result = await audit(root);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/✗ build: kustomize build of \.\/kubernetes\/apps\/default\/echo\/app failed: .*service-gone\.yml/);
  });
});
