import { describe, expect, it } from 'vitest';
import { parseClusterYaml } from '../../tasks/lib/model/config.ts';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { parseTaskOptions } from '../../tasks/lib/runner/task.ts';

const valid = `
context: kwok-infra
identity:
  server: https://127.0.0.1:16443
helmfile:
  environment: infra
`;

function errorOf(text: string): BootstrapError {
  try {
    parseClusterYaml(text, 'clusters/x/cluster.yaml');
  } catch (error) {
    if (error instanceof BootstrapError) return error;
    throw error;
  }
  throw new Error('expected a BootstrapError');
}

describe('cluster.yaml validation', () => {
  it('accepts a minimal file and fills defaults', () => {
    const spec = parseClusterYaml(valid, 'clusters/x/cluster.yaml');
    expect(spec.context).toBe('kwok-infra');
    expect(spec.prerequisites.secrets).toEqual([]);
    expect(spec.verify).toEqual({ conditions: [] });
    expect(spec.gitops).toBeUndefined();
  });

  it('names the file and a misspelled top-level key, and suggests the right one', () => {
    const error = errorOf(valid.replace('context:', 'contxt:'));
    expect(error.message).toBe(
      'clusters/x/cluster.yaml: contxt: unknown key "contxt"\n' +
        '  fix: did you mean "context"? (known keys here: kubeconfig, context, identity, helmfile, kubernetesVersion, kubernetes, registryMirror, prerequisites, verify, gitops, crdRules, drift, sandbox)',
    );
  });

  it('names a nested unknown key with its path', () => {
    const error = errorOf(`${valid}registryMirror:\n  host: 127.0.0.1:15000\n  plainHTTP: true\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: registryMirror.plainHTTP');
    expect(error.fix).toBe('did you mean "plainHttp"? (known keys here: host, plainHttp)');
  });

  it('points the old verify.gitops list at the gitops section', () => {
    const error = errorOf(`${valid}verify:\n  gitops:\n    - kubernetes/infrastructure\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: verify.gitops');
    expect(error.fix).toMatch(/set gitops.entry to the path your root Flux Kustomization reconciles/);
  });

  it('reads the gitops section and refuses paths that climb out of the repository', () => {
    expect(parseClusterYaml(`${valid}gitops:\n  entry: kubernetes/flux/cluster\n`, 'c').gitops).toEqual({ root: '.', entry: 'kubernetes/flux/cluster', operators: [], platformGroups: [], pinSkew: 'warn', sources: {}, handover: { severities: {}, intended: [] } });
    const error = errorOf(`${valid}gitops:\n  entry: ../other-repo/flux\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: gitops.entry');
    expect(error.problem).toBe('must be a relative path without ".."');
  });

  it('takes gitops.pinSkew error or warn, nothing else', () => {
    expect(parseClusterYaml(`${valid}gitops:\n  entry: kubernetes/flux/cluster\n  pinSkew: error\n`, 'c').gitops?.pinSkew).toBe('error');
    const error = errorOf(`${valid}gitops:\n  entry: kubernetes/flux/cluster\n  pinSkew: fail\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: gitops.pinSkew');
    expect(error.problem).toBe('Invalid option: expected one of "warn"|"error"');
  });

  it('reads gitops.handover: severities per verdict, intended differences with a reason, a release named <namespace>/<name>', () => {
    const text = `${valid}gitops:\n  entry: kubernetes/flux/cluster\n  handover:\n    severities: { upgrade: error }\n    intended:\n      - { release: kube-system/coredns, path: service.clusterIP, reason: sandbox range }\n`;
    expect(parseClusterYaml(text, 'c').gitops?.handover).toEqual({ severities: { upgrade: 'error' }, intended: [{ release: 'kube-system/coredns', path: 'service.clusterIP', reason: 'sandbox range' }] });
    expect(errorOf(text.replace('release: kube-system/coredns', 'release: coredns')).message).toContain('must be <namespace>/<release> of a core release');
    expect(errorOf(text.replace(', reason: sandbox range', '')).message).toContain('gitops.handover.intended.0.reason');
    expect(errorOf(text.replace('upgrade: error', 'upgrade: fatal')).message).toContain('gitops.handover.severities.upgrade');
  });

  it('reports a missing required key', () => {
    const error = errorOf(valid.replace('helmfile:\n  environment: infra\n', ''));
    expect(error.message).toBe('clusters/x/cluster.yaml: helmfile: is required\n  fix: see the cluster.yaml reference: docs/cluster-yaml.md');
  });

  it('reports a value of the wrong type as such, not as missing', () => {
    const error = errorOf(`${valid}sandbox:\n  apiServerPort: high\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: sandbox.apiServerPort');
    expect(error.problem).toBe('Invalid input: expected number, received string');
  });

  it('requires an identity pin', () => {
    const error = errorOf(valid.replace('  server: https://127.0.0.1:16443', '  {}').replace('identity:\n  {}', 'identity: {}'));
    expect(error.subject).toBe('clusters/x/cluster.yaml: identity');
    expect(error.problem).toBe('pin at least one of server or kubeSystemUID');
  });

  it('rejects a secret value written into the file', () => {
    const error = errorOf(`${valid}prerequisites:\n  secrets:\n    - name: s\n      namespace: n\n      data:\n        token: hunter2\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: prerequisites.secrets.0.data.token');
    expect(error.message).not.toContain('hunter2');
  });

  it('reports YAML syntax errors with the file', () => {
    const error = errorOf('context: [unclosed');
    expect(error.subject).toBe('clusters/x/cluster.yaml');
    expect(error.problem).toMatch(/^invalid YAML: /);
  });
});

describe('task options', () => {
  it('names the flag and the fix', async () => {

    expect(parseTaskOptions(['--cluster', 'infra', '--timeout', '90']).timeout).toBe(90);
    expect(() => parseTaskOptions(['--cluster', 'infra', '--timeout', 'soon'])).toThrow(
      'option --timeout: must be a whole number of seconds\n  fix: options: --cluster <name>',
    );
    expect(() => parseTaskOptions([])).toThrow('option --cluster: is required');
    expect(() => parseTaskOptions(['--cluster', 'infra', '--bogus'])).toThrow("command line: Unknown option '--bogus'");
  });
});

describe('values that look right but are not', () => {
  it('refuses a registry mirror with a scheme, saying how to write it', () => {
    const error = errorOf(`${valid}registryMirror:\n  host: http://127.0.0.1:15000\n`);
    expect(error.subject).toBe('clusters/x/cluster.yaml: registryMirror.host');
    expect(error.problem).toBe('must not have a scheme: write host[:port][/path], e.g. 127.0.0.1:15000 (plain HTTP is plainHttp: true)');
  });

  it('takes --timeout as whole seconds in digits only', () => {
    expect(parseTaskOptions(['--cluster', 'infra', '--timeout', '45']).timeout).toBe(45);
    for (const value of ['1e3', '0x10', '+5', '0', '2.5', ' 7']) {
      expect(() => parseTaskOptions(['--cluster', 'infra', '--timeout', value]), value).toThrow('option --timeout: must be a whole number of seconds');
    }
  });
});

describe('an unclosed quote', () => {
  it('is reported where it opened, not at the end of the file', () => {
    const error = errorOf(valid.replace('context: kwok-infra', 'context: "kwok-infra'));
    expect(error.message).toBe(
      'clusters/x/cluster.yaml:2: invalid YAML: the quote opened on line 2 is never closed: context: "kwok-infra\n  fix: close the quote on that line',
    );
  });
});

describe('facts written in two places must agree', () => {
  it('refuses a sandbox cluster whose context or server disagrees with what the sandbox creates', async () => {
    const { checkSandboxFacts } = await import('../../scripts/sandbox/clusters.ts');
    const base = { name: 'infra', file: `${process.cwd()}/clusters/infra/cluster.yaml`, context: 'kwok-infra', identity: { server: 'https://127.0.0.1:16443' }, sandbox: { apiServerPort: 16443, nodes: 1 } };
    expect(() => checkSandboxFacts(base as never)).not.toThrow();
    expect(() => checkSandboxFacts({ ...base, context: 'kind-infra' } as never)).toThrow(
      'clusters/infra/cluster.yaml: context: is "kind-infra", but the sandbox names this cluster\'s context "kwok-infra"\n  fix: set context: kwok-infra',
    );
    expect(() => checkSandboxFacts({ ...base, sandbox: { apiServerPort: 16500, nodes: 1 } } as never)).toThrow(
      'identity.server: is https://127.0.0.1:16443, but sandbox.apiServerPort puts the API server at https://127.0.0.1:16500',
    );
  });
});

describe('options per task', () => {
  it('refuses an option the task does not take, naming the ones it does', () => {
    expect(() => parseTaskOptions(['--cluster', 'infra', '--allow-breaking'], ['context', 'json'], 'plan')).toThrow(
      'option --allow-breaking: is not an option of plan\n  fix: plan takes --cluster <name> --context <name> --json',
    );
    expect(parseTaskOptions(['--cluster', 'infra', '--json'], ['context', 'json'], 'plan')).toMatchObject({ cluster: 'infra', json: true });
  });

  it('leaves --timeout unset when not given, so each task picks its own default', () => {
    expect(parseTaskOptions(['--cluster', 'infra']).timeout).toBeUndefined();
  });
});
