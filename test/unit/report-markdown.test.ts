// --format markdown: every report puts its verdict and findings first, then the full text report
// in a collapsible <details>; audit draws its layers as a Mermaid flowchart that mermaid's own
// parser accepts (and refuses once broken), with the Kustomizations that have findings in red.
import { describe, expect, it } from 'vitest';
import { auditReport } from '../../tasks/audit.ts';
import { comparisonReport } from '../../tasks/compare-bundles.ts';
import { driftReport } from '../../tasks/drift.ts';
import { planReport } from '../../tasks/plan.ts';
import { upgradeReport } from '../../tasks/upgrade-check.ts';
import type { Finding, LayerRow, TreeAudit } from '../../tasks/lib/gitops/flux-audit.ts';
import { rehearsalMermaid } from '../../tasks/lib/gitops/flux-mermaid.ts';
import { compareHandover, handoverFindings, withSeverities, type CoreRelease } from '../../tasks/lib/gitops/handover.ts';
import type { HelmReleaseSource } from '../../tasks/lib/gitops/helmrelease-crds.ts';
import { checkReportOutput, type ReportResult } from '../../tasks/lib/runner/task.ts';
import { fenced, markdownReport, md } from '../../tasks/lib/runtime/markdown.ts';
import { mermaidBlock, parseMermaid } from '../helpers/mermaid.ts';

const row = (kustomization: string, layer: number | null, dependsOn: string[] = [], wait = false): LayerRow => ({ layer, kustomization, file: `apps/${kustomization}/ks.yaml`, dependsOn, wait, kinds: [] });

const layers = [
  row('flux-system/cluster-apps', 0),
  row('observability/prometheus-operator-crds', 1, ['flux-system/cluster-apps'], true),
  row('kube-system/coredns', 1, ['flux-system/cluster-apps']),
  row('kube-system/spegel', 2, ['kube-system/coredns']),
  // A name Mermaid could misread: quotes and brackets in a label, dots in an id.
  row('default/"odd" [name].v2', null, ['default/other']),
];
const race: Finding = {
  type: 'race',
  kustomization: 'kube-system/coredns',
  file: 'kubernetes/apps/kube-system/coredns/app/prometheusrule.yaml',
  kind: 'monitoring.coreos.com/v1 PrometheusRule',
  message: 'kube-system/coredns applies monitoring.coreos.com/v1 PrometheusRule, whose CRD <HelmRelease> installs in observability/prometheus-operator-crds',
  fix: 'add dependsOn observability/prometheus-operator-crds to kube-system/coredns',
};
const skew: Finding = { type: 'version-skew', kustomization: 'kube-system/spegel', file: 'kubernetes/apps/kube-system/spegel/app/ocirepository.yaml', message: 'helmfile.d/01-core.yaml.gotmpl:42 pins spegel 0.7.4', fix: 'pin one version', severity: 'warn' };
const rehearsal: TreeAudit = { layers, findings: [race, skew] };
const files = { applied: ['a.yaml'], buildInputs: [], unreferenced: [] };

const render = (title: string, result: ReportResult) => markdownReport({ title, clean: result.clean, text: result.text, ...result.markdown });

describe('audit --format markdown', () => {
  const markdown = render('audit infra', auditReport(rehearsal, files, false));

  it('draws the layers as a flowchart that mermaid.parse accepts', async () => {
    const graph = mermaidBlock(markdown);
    expect(graph).toBe(rehearsalMermaid(rehearsal));
    await expect(parseMermaid(graph!)).resolves.toMatchObject({ diagramType: 'flowchart-v2' });
  }, 30_000);

  it('a broken copy of the graph is refused by the same parser', async () => {
    const broken = rehearsalMermaid(rehearsal).replace('k0["', 'k0["unclosed ');
    await expect(parseMermaid(broken.replace(/"]\n/, '\n'))).rejects.toThrow(/Parse error/);
  }, 30_000);

  it('has a node per Kustomization, an edge per dependsOn, the finding red and the warning amber', () => {
    const graph = rehearsalMermaid(rehearsal);
    expect(graph.split('\n').slice(0, 3)).toEqual(['flowchart TD', '  k0["flux-system/cluster-apps<br/>layer 0"]', '  k1["observability/prometheus-operator-crds<br/>layer 1, wait"]']);
    expect(graph).toContain('  k4["default/#quot;odd#quot; [name].v2<br/>never starts: dependsOn cycle"]');
    expect(graph).toContain('  k0 --> k2\n  k2 --> k3');
    expect(graph).not.toContain('default/other'); // a dependsOn the tree lacks is a finding, not a node
    expect(graph).toContain('  class k2 finding\n  class k3 warning');
  });

  it('puts the findings first, the warning after them, the graph, then the full report folded', () => {
    expect(markdown.startsWith('### ✗ audit infra: 5 Kustomizations, 1 findings, 1 warnings\n\n- **race** ')).toBe(true);
    expect(markdown).toContain('whose CRD &lt;HelmRelease&gt; installs'); // a message's own < > are text, not HTML
    expect(markdown).toContain('<br>\n  Kustomization `kube-system/coredns`, `kubernetes/apps/kube-system/coredns/app/prometheusrule.yaml`');
    const order = ['- **race**', '- **warning: version-skew**', '```mermaid', '<details><summary>Full report</summary>', '```text\nLayer 0'];
    const at = order.map((part) => markdown.indexOf(part));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(markdown.endsWith('</details>')).toBe(true);
  });
});

describe('the other reports --format markdown', () => {
  it('compare-bundles: breaking changes and dropped CRDs are the findings', () => {
    const change = { crd: 'vmrules.operator.victoriametrics.com', rule: 'list-type-tightened' as const, severity: 'error' as const, version: 'v1beta1', field: '.spec.groups[].rules', detail: 'list type atomic → map (keys record, alert)' };
    const markdown = render('compare-bundles infra', comparisonReport({ breaking: [change], notes: [], dropped: ['old.example.com'], added: [] }));
    expect(markdown).toBe(
      '### ✗ compare-bundles infra: 1 breaking, 1 dropped, 0 added\n\n' +
        '- **list-type-tightened** `vmrules.operator.victoriametrics.com` (version v1beta1, field .spec.groups\\[\\].rules): list type atomic → map (keys record, alert)\n' +
        '- **dropped** `old.example.com`: no chart defines it any more (clusters keep it, never deleted)\n\n' +
        '<details><summary>Full report</summary>\n\n```text\n' +
        '✗ vmrules.operator.victoriametrics.com (version v1beta1, field .spec.groups[].rules): list-type-tightened: list type atomic → map (keys record, alert)\n' +
        '✗ old.example.com: dropped from the bundle (stays in clusters, never deleted)\n1 breaking, 1 dropped, 0 added\n```\n\n</details>',
    );
  });

  it('upgrade-check: each rejected object with the API server’s words', () => {
    const check = { changed: ['vmrules.operator.victoriametrics.com'], checked: 3, seconds: 4.2, rejected: [{ origin: 'kubernetes/apps/observability/rules/app/node-vmrule.yml', object: 'VMRule observability/node', crd: 'vmrules.operator.victoriametrics.com', version: 'v1beta1', message: 'spec.groups[0].rules[1]: Duplicate value: {"alert":"NodeDown"}' }] };
    const markdown = render('upgrade-check infra', upgradeReport(check));
    expect(markdown).toContain('### ✗ upgrade-check infra: 1 of 3 objects rejected\n\n- **rejected** VMRule observability/node (`kubernetes/apps/observability/rules/app/node-vmrule.yml`) by `vmrules.operator.victoriametrics.com v1beta1`<br>\n  spec.groups\\[0\\].rules\\[1\\]: Duplicate value: {"alert":"NodeDown"}');
    expect(markdown).toContain('Changed CRDs: `vmrules.operator.victoriametrics.com`');
    expect(render('upgrade-check infra', upgradeReport({ changed: [], checked: 0, seconds: 0, rejected: [] }))).toMatch(/^### ✔ upgrade-check infra: no CRD changes\n\n<details>/);
  });

  it('drift and plan: one item per finding, clean when there is none', () => {
    expect(render('drift apps', driftReport('apps', [{ kind: 'differs', subject: 'prometheusrules.monitoring.coreos.com', detail: 'live spec differs from the bundle' }]))).toMatch(
      /^### ✗ drift apps: 1 finding\(s\)\n\n- \*\*differs\*\* `prometheusrules\.monitoring\.coreos\.com`: live spec differs from the bundle\n\n<details>/,
    );
    const plan = planReport({ entries: [{ name: 'a.example.com', action: 'unchanged', release: 'x', bytes: 10, breaking: [] }], orphaned: [], adopt: [] }, 'ACTION  CRD', 'kwok-infra');
    expect(render('plan infra', plan)).toMatch(/^### ✔ plan infra: 0 to create, 0 to update, 1 unchanged, 0 breaking\n\n<details>/);
  });
});

describe('markdown text', () => {
  it('shows a message’s characters literally and never lets the text close its fence', () => {
    expect(md('a *b* <script> [x](y) `z`')).toBe('a \\*b\\* &lt;script&gt; \\[x\\](y) \\`z\\`');
    expect(fenced('before\n```\nafter')).toBe('````text\nbefore\n```\nafter\n````');
  });

  it('refuses --json with --format markdown before the report runs', () => {
    expect(() => checkReportOutput({ json: true, format: 'markdown', title: 'audit infra' })).toThrow('options --json and --format markdown: ask for two outputs at once');
    expect(() => checkReportOutput({ json: true, format: 'text', title: 'audit infra' })).not.toThrow();
  });
});

describe('audit --format markdown: the hand-off (what pr-check posts)', () => {
  const twinOf = (name: string, namespace: string, chart: string, values: Record<string, unknown>): HelmReleaseSource => ({
    kustomization: `${namespace}/${name}`, name, namespace, file: `kubernetes/apps/${namespace}/${name}/app/helmrelease.yaml`, releaseName: name, targetNamespace: namespace, storageNamespace: namespace,
    chart: { url: `oci://${chart}`, version: '1.0.0', file: `kubernetes/apps/${namespace}/${name}/app/ocirepository.yaml` }, installCrds: 'Create', upgradeCrds: 'Skip', values, missingValues: [],
  });
  const core: CoreRelease[] = [
    { name: 'cert-manager', namespace: 'cert-manager', chart: 'quay.io/jetstack/charts/cert-manager', version: '1.0.0', values: { crds: { enabled: false } }, at: 'helmfile.d/01-core.yaml.gotmpl:52' },
    { name: 'spegel', namespace: 'kube-system', chart: 'ghcr.io/spegel-org/helm-charts/spegel', version: '1.0.0', values: { service: { registry: { hostPort: 29999 } } }, at: 'helmfile.d/01-core.yaml.gotmpl:44' },
  ];
  const tree = [
    twinOf('cert-manager', 'cert-manager', 'quay.io/jetstack/charts/cert-manager', { crds: { enabled: true } }),
    twinOf('spegel', 'kube-system', 'ghcr.io/spegel-org/helm-charts/spegel', { service: { registry: { hostPort: 30020 } } }),
  ];
  const handover = withSeverities(compareHandover(core, tree), {});
  const audit = { layers, findings: handoverFindings(handover), handover };
  const result = auditReport(audit, files, false);
  const markdown = render('audit infra', result);

  it('fails on CRDs changing hands, lists the values upgrade as a warning, each with its file and fix, and the hand-off table in the details', () => {
    expect(result.clean).toBe(false);
    expect(markdown).toMatch(/^### ✗ audit infra: 5 Kustomizations, 1 findings, 1 warnings/m);
    const items = markdown.split('\n').filter((l) => l.startsWith('- **'));
    expect(items[0]).toMatch(/^- \*\*handover\*\* HelmRelease cert-manager\/cert-manager turns on the chart's own CRD installation that core keeps off \(crds\.enabled: false → true\)/);
    expect(items[1]).toMatch(/^- \*\*warning: handover\*\* core release kube-system\/spegel \(helmfile\.d\/01-core\.yaml\.gotmpl:44\) differs from HelmRelease kube-system\/spegel: Flux's first reconcile upgrades it right after the bootstrap \(service\.registry\.hostPort: 29999 → 30020\)/);
    expect(markdown).toContain('Kustomization `cert-manager/cert-manager`, `kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml`');
    expect(markdown).toContain('fix: keep the CRD switch off in kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml');
    const details = markdown.slice(markdown.indexOf('<details>'));
    expect(details).toContain('Hand-off from core to Flux (core release → the HelmRelease that takes it over)');
    expect(details).toContain('✗ cert-manager/cert-manager → cert-manager/cert-manager (kubernetes/apps/cert-manager/cert-manager/app/helmrelease.yaml): crd-ownership');
    expect(details).toContain('! kube-system/spegel → kube-system/spegel (kubernetes/apps/kube-system/spegel/app/helmrelease.yaml): upgrade (service.registry.hostPort: 29999 → 30020)');
  });
});
