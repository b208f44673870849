import { describe, expect, it } from 'vitest';
import { templateErrorLine } from '../../tasks/lib/runtime/template-line.ts';
import { tail } from '../../tasks/lib/runtime/tool-log.ts';

describe('helm and helmfile output in errors', () => {
  it('shows what helm said after helmfile\'s argument dump, each line once', () => {
    const stderr = [
      'in ./01-core.yaml.gotmpl: failed processing release coredns: command "helm" exited with non-zero status:',
      '25: 10 (2 bytes)',
      'STDERR:',
      'Error: UPGRADE FAILED: resource Deployment/kube-system/coredns not ready',
      'context deadline exceeded',
      'COMBINED OUTPUT:',
      'Error: UPGRADE FAILED: resource Deployment/kube-system/coredns not ready',
      'context deadline exceeded',
    ].join('\n');
    expect(tail(stderr)).toBe('    Error: UPGRADE FAILED: resource Deployment/kube-system/coredns not ready\n    context deadline exceeded');
  });

  it('maps a template error in a part of the state file to the line of the file', () => {
    const file = ['bases:', '  - bases/environments.yaml.gotmpl', '---', '{{ $oci := "" }}', 'releases:', '  - name: x', '    version: {{ .Values.nope.missing }}'].join('\n');
    const stderr = 'in ./00-crds.yaml.gotmpl: error during 00-crds.yaml.gotmpl.part.1 parsing: template: stringTemplate:4:23: executing "stringTemplate" at <.Values.nope.missing>: map has no entry for key "nope"';
    expect(templateErrorLine(stderr, file)).toEqual({ line: 7, text: 'version: {{ .Values.nope.missing }}' });
    expect(templateErrorLine('some other error', file)).toBeUndefined();
  });
});
