// cluster.yaml's kubernetes section: gates read from kube-apiserver's --help, a typo refused with
// the closest gate, the kwokctl arguments in a stable order.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFeatureGates, kwokctlKubernetesArgs, parseKnownGates } from '../../tasks/lib/cluster/feature-gates.ts';
import { parseClusterYaml } from '../../tasks/lib/model/config.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

// The shape of kube-apiserver --help under --feature-gates (v1.36.3, as built here).
const HELP = `      --feature-gates colonSeparatedMultimapStringString
                A set of key=value pairs that describe feature gates for alpha/experimental features. Options are:
                kube:APIResponseCompression=true|false (BETA - default=true)
                kube:AllAlpha=true|false (ALPHA - default=false)
                kube:HPAScaleToZero=true|false (ALPHA - default=false)
                kube:InPlacePodVerticalScaling=true|false (BETA - default=true)
      --goaway-chance float
`;
const cluster = (featureGates: Record<string, boolean>, runtimeConfig: Record<string, boolean> = {}) => ({ file: path.join(workspaceRoot, 'clusters/infra/cluster.yaml'), kubernetes: { featureGates, runtimeConfig } });

describe('feature gates', () => {
  it('reads each gate with its maturity from --help', () => {
    const known = parseKnownGates(HELP);
    expect([...known.keys()]).toEqual(['APIResponseCompression', 'AllAlpha', 'HPAScaleToZero', 'InPlacePodVerticalScaling']);
    expect(known.get('HPAScaleToZero')).toBe('ALPHA - default=false');
  });

  it('accepts known gates; refuses a typo naming the file, the key and the closest gate', () => {
    const known = parseKnownGates(HELP);
    expect(() => checkFeatureGates(cluster({ HPAScaleToZero: true }), known)).not.toThrow();
    expect(() => checkFeatureGates(cluster({ HPAScaleTooZero: true }), known)).toThrow(
      'clusters/infra/cluster.yaml: kubernetes.featureGates.HPAScaleTooZero: is not a feature gate of the pinned kube-apiserver (4 known; removed, or misspelt)\n  fix: did you mean HPAScaleToZero (ALPHA - default=false)? Otherwise remove it',
    );
  });

  it('passes gates and runtime config to kwokctl, sorted; nothing when none are declared', () => {
    expect(kwokctlKubernetesArgs(cluster({ InPlacePodVerticalScaling: false, HPAScaleToZero: true }, { 'resource.k8s.io/v1beta1': true }))).toEqual([
      '--kube-feature-gates', 'HPAScaleToZero=true,InPlacePodVerticalScaling=false',
      '--kube-runtime-config', 'resource.k8s.io/v1beta1=true',
    ]);
    expect(kwokctlKubernetesArgs(cluster({}))).toEqual([]);
  });

  it('cluster.yaml validates the section: a gate must be a name, its value a boolean', () => {
    const base = 'context: c\nidentity: {server: https://127.0.0.1:1}\nhelmfile: {environment: infra}\n';
    expect(parseClusterYaml(`${base}kubernetes: {featureGates: {HPAScaleToZero: true}}\n`, 'cluster.yaml').kubernetes.featureGates).toEqual({ HPAScaleToZero: true });
    expect(parseClusterYaml(base, 'cluster.yaml').kubernetes).toEqual({ featureGates: {}, runtimeConfig: {} });
    expect(() => parseClusterYaml(`${base}kubernetes: {featureGates: {HPAScaleToZero: "yes"}}\n`, 'cluster.yaml')).toThrow(/kubernetes\.featureGates\.HPAScaleToZero/);
  });
});
