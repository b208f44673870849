import { describe, expect, it } from 'vitest';
import { templatesMayRenderCrds, templatesRunWorkload, type PulledChart } from '../../tasks/lib/gitops/chart-store.ts';

const chart = (over: Partial<PulledChart> = {}): PulledChart => ({ dir: '/charts/spegel', version: '0.7.4', templates: 'kind: DaemonSet\nmetadata:\n  name: {{ include "spegel.fullname" . }}', values: 'serviceMonitor:\n  enabled: false', crdFiles: '', packedSubcharts: false, ...over });

describe('what a chart can render, from its files', () => {
  it('templates that name no CRD, read no file and print no value naming one: no render needed', () => {
    expect(templatesMayRenderCrds(chart(), { service: { registry: { hostPort: 31000 } } })).toBe(false);
  });

  it('a CRD named in a template, read from a file, in the chart values or the release values, or a packed subchart: rendered', () => {
    expect(templatesMayRenderCrds(chart({ templates: '{{- if .Values.crds.enabled }}\nkind: CustomResourceDefinition' }), {})).toBe(true);
    expect(templatesMayRenderCrds(chart({ templates: '{{ range $path, $_ := .Files.Glob "files/crds/*.yaml" }}{{ $.Files.Get $path }}{{ end }}' }), {})).toBe(true);
    expect(templatesMayRenderCrds(chart({ values: 'extraObjects:\n  - kind: CustomResourceDefinition' }), {})).toBe(true);
    expect(templatesMayRenderCrds(chart(), { extraObjects: [{ kind: 'CustomResourceDefinition' }] })).toBe(true);
    expect(templatesMayRenderCrds(chart({ packedSubcharts: true }), {})).toBe(true);
  });

  it('a workload among its templates; a chart of CRDs alone has none', () => {
    expect(templatesRunWorkload(chart())).toBe(true);
    expect(templatesRunWorkload(chart({ templates: "{{- if .Values.crds.enabled }}\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition" }))).toBe(false);
    expect(templatesRunWorkload(chart({ templates: '', packedSubcharts: true }))).toBe(true);
  });
});
