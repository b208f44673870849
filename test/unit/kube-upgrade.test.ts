// Judging a Kubernetes upgrade offline: the built-in kind lists per minor, the API versions the
// tree uses that a minor does not serve, CRD features a minor does not accept, chart kubeVersion
// constraints as Helm reads them.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { featuresAbove, featuresOf, withoutStringLiterals } from '../../tasks/lib/crds/crd-kube-features.ts';
import { builtinGroups, builtinKindsOf } from '../../tasks/lib/gitops/builtin-kinds.ts';
import { readClusterTree } from '../../tasks/lib/gitops/cluster-tree.ts';
import type { FluxKustomization } from '../../tasks/lib/gitops/flux-tree.ts';
import { compareVersionPriority, replacementsFor, unservedApis } from '../../tasks/lib/gitops/unserved-apis.ts';
import { loadCluster, parseClusterYaml } from '../../tasks/lib/model/config.ts';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { KUBERNETES_MINORS } from '../../tasks/lib/model/kubernetes-versions.ts';
import { kubeVersionRefusal } from '../../tasks/lib/tools/chart-kube-version.ts';
import { withToolsOnPath } from '../../tasks/lib/tools/tool-identity.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const listsDir = path.join(workspaceRoot, 'tasks/lib/gitops/builtin-kinds');

describe('the built-in kind lists', () => {
  it('exist for exactly the minors cluster.yaml accepts, each made from a release of its minor', async () => {
    const files = (await readdir(listsDir)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(KUBERNETES_MINORS.map((m) => `${m}.json`));
    for (const minor of KUBERNETES_MINORS) {
      const list = JSON.parse(await readFile(path.join(listsDir, `${minor}.json`), 'utf8')) as { kubernetes: string; kinds: string[] };
      expect(list.kubernetes).toMatch(new RegExp(`^v${minor.replace('.', '\\.')}\\.\\d+$`));
      expect(list.kinds).toEqual([...new Set(list.kinds)].sort());
      // Every minor serves the core kinds; none lists a beta version (none is on by default since 1.24).
      expect(list.kinds).toEqual(expect.arrayContaining(['v1 Pod', 'apps/v1 Deployment', 'apiextensions.k8s.io/v1 CustomResourceDefinition', 'apiregistration.k8s.io/v1 APIService']));
      expect(list.kinds.filter((k) => /\/v\d+(alpha|beta)\d+ /.test(k))).toEqual([]);
    }
  });

  it('know Kubernetes\' own groups, the core group as ""', async () => {
    const groups = await builtinGroups();
    expect(groups).toContain('');
    expect(groups).toContain('flowcontrol.apiserver.k8s.io');
    expect(groups).not.toContain('cert-manager.io');
  });
});

describe('kubernetesVersion in cluster.yaml', () => {
  const yaml = (version: string) => `context: c\nidentity: { server: https://127.0.0.1:6443 }\nhelmfile: { environment: infra }\nkubernetesVersion: "${version}"\n`;

  it('accepts every minor with a list and refuses others, naming them', () => {
    for (const minor of KUBERNETES_MINORS) expect(parseClusterYaml(yaml(minor), 'cluster.yaml').kubernetesVersion).toBe(minor);
    expect(() => parseClusterYaml(yaml('1.32'), 'cluster.yaml')).toThrow(
      'cluster.yaml: kubernetesVersion: must be a Kubernetes minor version with a built-in kind list: "1.33", "1.34", "1.35", "1.36", "1.37"',
    );
  });
});

const kustomization = (objects: Array<{ apiVersion: string; kind: string; name: string; file: string }>): FluxKustomization => ({
  id: 'flux-system/apps',
  name: 'apps',
  namespace: 'flux-system',
  path: './apps',
  file: 'kubernetes/flux/apps.yaml',
  dependsOn: [],
  wait: false,
  healthChecks: [],
  unresolved: [],
  objects: objects.map(({ file, ...o }) => ({ file, object: { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace: 'default' } } })),
});

describe('built-in API versions a minor does not serve', () => {
  const now = new Set(['flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema', 'flowcontrol.apiserver.k8s.io/v1 FlowSchema', 'apps/v1 Deployment']);
  const target = new Set(['flowcontrol.apiserver.k8s.io/v1 FlowSchema', 'apps/v1 Deployment', 'autoscaling/v1 HorizontalPodAutoscaler', 'autoscaling/v2 HorizontalPodAutoscaler']);
  const builtinGroups = new Set(['', 'apps', 'autoscaling', 'flowcontrol.apiserver.k8s.io', 'resource.k8s.io']);

  it('names the file and the version that replaces it; CRD kinds are not its business', () => {
    const tree = [
      kustomization([
        { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', name: 'fs', file: 'kubernetes/apps/fs.yaml' },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', file: 'kubernetes/apps/web.yaml' },
        { apiVersion: 'cert-manager.io/v1alpha2', kind: 'Certificate', name: 'tls', file: 'kubernetes/apps/cert.yaml' },
        { apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler', name: 'hpa', file: 'kubernetes/apps/hpa.yaml' },
        { apiVersion: 'resource.k8s.io/v1', kind: 'DeviceClass', name: 'gpu', file: 'kubernetes/apps/gpu.yaml' },
      ]),
    ];
    expect(unservedApis(tree, { now, target, builtinGroups })).toEqual([
      { apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3', kind: 'FlowSchema', object: 'default/fs', file: 'kubernetes/apps/fs.yaml', kustomization: 'flux-system/apps', servedNow: true, replacements: ['flowcontrol.apiserver.k8s.io/v1'] },
      { apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler', object: 'default/hpa', file: 'kubernetes/apps/hpa.yaml', kustomization: 'flux-system/apps', servedNow: false, replacements: ['autoscaling/v2', 'autoscaling/v1'] },
      { apiVersion: 'resource.k8s.io/v1', kind: 'DeviceClass', object: 'default/gpu', file: 'kubernetes/apps/gpu.yaml', kustomization: 'flux-system/apps', servedNow: false, replacements: [] },
    ]);
  });

  it('prefers versions as Kubernetes does: GA, then beta, then alpha; the higher first', () => {
    const versions = ['v1beta1', 'v1', 'v2alpha1', 'v1beta2', 'v2', 'v1alpha1'];
    expect([...versions].sort((a, b) => compareVersionPriority(b, a))).toEqual(['v2', 'v1', 'v1beta2', 'v1beta1', 'v2alpha1', 'v1alpha1']);
    expect(replacementsFor('v1 Binding', 'Binding', new Set(['v1 Binding', 'apps/v1 Binding']))).toEqual(['v1']);
  });
});

const crd = (versions: Array<{ name: string; schema: Record<string, unknown>; selectableFields?: unknown[] }>): Crd => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets' },
    versions: versions.map((v) => ({ served: true, storage: true, ...v, schema: { openAPIV3Schema: v.schema } })),
  },
});

describe('CRD features a minor does not accept', () => {
  const widget = crd([
    {
      name: 'v1',
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              version: { type: 'string', 'x-kubernetes-validations': [{ rule: 'isSemver(self)', message: 'must be semver' }] },
              peers: {
                type: 'array',
                items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'isIP(self)', messageExpression: "'not an ip(): ' + self", optionalOldSelf: true }] },
              },
              tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.distinct().size() == self.size()' }] },
            },
          },
        },
      },
    },
  ]);

  it('lists each feature with where it is used and the first minor that accepts it', () => {
    const uses = featuresOf(widget).map((f) => `${f.name} @ ${f.at}: ${f.minimum}`);
    expect(uses).toEqual([
      'x-kubernetes-validations @ v1 spec.version: 1.25',
      'CEL semver library @ v1 spec.version: 1.34',
      'x-kubernetes-validations messageExpression @ v1 spec.peers[]: 1.27',
      'x-kubernetes-validations optionalOldSelf @ v1 spec.peers[]: 1.30',
      'CEL IP and CIDR libraries @ v1 spec.peers[]: 1.31',
      'CEL extended lists library (cel-go ext.Lists v3) @ v1 spec.tags: 1.35',
    ]);
  });

  it('holds against a minor only what that minor does not accept yet', () => {
    expect(featuresAbove(widget, '1.33').map((f) => f.name)).toEqual(['CEL semver library', 'CEL extended lists library (cel-go ext.Lists v3)']);
    expect(featuresAbove(widget, '1.35')).toEqual([]);
    expect(featuresAbove(crd([{ name: 'v1', schema: { type: 'object' }, selectableFields: [{ jsonPath: '.spec.color' }] }]), '1.30').map((f) => f.name)).toEqual(['spec.versions[].selectableFields']);
  });

  it('reads CEL, not the text of its string literals', () => {
    expect(withoutStringLiterals(`self.name == "semver(1)" && 'x\\'ip(' != r"cidr("`)).toBe("self.name == '' && '' != ''");
    expect(featuresOf(crd([{ name: 'v1', schema: { type: 'object', 'x-kubernetes-validations': [{ rule: "self.msg != 'use semver(x)'" }] } }])).map((f) => f.name)).toEqual(['x-kubernetes-validations']);
  });
});

describe('chart kubeVersion constraints, as Helm reads them', () => {
  withToolsOnPath();

  it('refuses a minor outside the constraint with Helm\'s own words, and accepts one inside', async () => {
    expect(await kubeVersionRefusal('>=1.25.0-0 <1.37.0-0', '1.36')).toBeUndefined();
    expect(await kubeVersionRefusal('>=1.25.0-0 <1.37.0-0', '1.37')).toBe('chart requires kubeVersion: >=1.25.0-0 <1.37.0-0 which is incompatible with Kubernetes v1.37.0');
    // Masterminds' comma (AND) and || (OR), which node's semver reads otherwise.
    expect(await kubeVersionRefusal('>= 1.25, < 1.34 || >= 1.36', '1.36')).toBeUndefined();
    expect(await kubeVersionRefusal('>= 1.25, < 1.34 || >= 1.36', '1.35')).toMatch(/^chart requires kubeVersion/);
  });
});

describe('a Kubernetes bump on a copy of the example tree', () => {
  withToolsOnPath();

  /** The example tree in a temporary folder, with a FlowSchema and a DeviceClass in coredns' app. */
  async function treeWithBuiltins(): Promise<string> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'kube-upgrade-'));
    await cp(path.join(workspaceRoot, 'kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
    const app = path.join(root, 'kubernetes/apps/kube-system/coredns/app');
    // flowcontrol.apiserver.k8s.io/v1beta3 went in 1.32; v1 is served since 1.29.
    await writeFile(
      path.join(app, 'flowschema.yaml'),
      'apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: coredns\nspec:\n  priorityLevelConfiguration:\n    name: workload-high\n',
    );
    // resource.k8s.io/v1 is GA in 1.34: a 1.33 API server serves no version of it by default.
    await writeFile(path.join(app, 'deviceclass.yaml'), 'apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata:\n  name: gpu\n');
    const kustomization = path.join(app, 'kustomization.yaml');
    await writeFile(kustomization, (await readFile(kustomization, 'utf8')).replace('resources:\n', 'resources:\n  - ./flowschema.yaml\n  - ./deviceclass.yaml\n'));
    return root;
  }

  const judge = async (root: string, from: string, to: string) => {
    const tree = await readClusterTree(await loadCluster('infra'), root);
    return unservedApis(tree.kustomizations, { now: await builtinKindsOf(from), target: await builtinKindsOf(to), builtinGroups: await builtinGroups() });
  };

  it('names the file of a removed API version and the version that replaces it; nothing else of the tree', async () => {
    const root = await treeWithBuiltins();
    try {
      const found = await judge(root, '1.33', '1.37');
      expect(found).toEqual([
        {
          apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3',
          kind: 'FlowSchema',
          // kustomize gives kinds it does not know as cluster-scoped the targetNamespace, as in Flux.
          object: 'kube-system/coredns',
          file: 'kubernetes/apps/kube-system/coredns/app/flowschema.yaml',
          kustomization: 'kube-system/coredns',
          servedNow: false,
          replacements: ['flowcontrol.apiserver.k8s.io/v1'],
        },
      ]);
      // Going down to 1.33 also loses the DeviceClass, which 1.33 serves in no version by default.
      expect((await judge(root, '1.36', '1.33')).map((f) => [f.apiVersion, f.kind, f.file, f.servedNow, f.replacements])).toEqual([
        ['flowcontrol.apiserver.k8s.io/v1beta3', 'FlowSchema', 'kubernetes/apps/kube-system/coredns/app/flowschema.yaml', false, ['flowcontrol.apiserver.k8s.io/v1']],
        ['resource.k8s.io/v1', 'DeviceClass', 'kubernetes/apps/kube-system/coredns/app/deviceclass.yaml', true, []],
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
