// A generated GitOps tree of real size (FACTS §6: 72–94 Kustomizations, 60–79 HelmReleases): the
// example tree plus generated namespaces of apps shaped like the real ones. Each app is a ks.yaml
// (sourceRef the synced GitRepository flux-system, dependsOn the app before it, wait: true) and an
// app/ with kustomization.yaml, a HelmRelease whose chartRef is its own OCIRepository (spegel, a
// chart the sandbox's mirror has), a PrometheusRule and a config file read by a configMapGenerator.
// Each release gets its own hostPort, as distinct releases of one DaemonSet chart need.
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findYamlFiles } from '../../tasks/lib/runtime/manifests.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

export interface GeneratedTree {
  root: string;
  /** YAML files in the whole tree. */
  files: number;
}

function appFiles(ns: string, app: string, previous: string | undefined, hostPort: number): Record<string, string> {
  const depends = previous ? `  dependsOn:\n    - name: ${previous}\n` : '';
  return {
    'ks.yaml': `---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: &app ${app}\nspec:\n  targetNamespace: ${ns}\n${depends}  interval: 1h\n  path: ./kubernetes/apps/${ns}/${app}/app\n  postBuild:\n    substitute:\n      APP: *app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n  timeout: 5m\n  wait: true\n`,
    'app/kustomization.yaml': `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\n  - ./ocirepository.yaml\n  - ./prometheusrule.yaml\nconfigMapGenerator:\n  - name: ${app}-config\n    files:\n      - config.yaml=./resources/config.yaml\n`,
    'app/helmrelease.yaml': `---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${app}\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: ${app}\n  values:\n    service:\n      registry:\n        hostPort: ${hostPort}\n`,
    'app/ocirepository.yaml': `---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: ${app}\nspec:\n  interval: 5m\n  layerSelector:\n    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip\n    operation: copy\n  ref:\n    tag: 0.7.4\n  url: oci://ghcr.io/spegel-org/helm-charts/spegel\n`,
    'app/prometheusrule.yaml': `---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: \${APP}\nspec:\n  groups:\n    - name: \${APP}\n      rules:\n        - alert: \${APP}Down\n          expr: absent(up{job="\${APP}"} == 1)\n          for: 5m\n`,
    'app/resources/config.yaml': `---\nendpoints:\n  - name: ${app}\n    url: https://${app}.example.com\n`,
  };
}

/** The example tree plus `namespaces` × `appsPerNamespace` generated apps, in a new temporary folder. */
export async function generateTree(namespaces: number, appsPerNamespace: number): Promise<GeneratedTree> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-gitops-'));
  await cp(path.join(workspaceRoot, 'kubernetes'), path.join(root, 'kubernetes'), { recursive: true });
  for (let n = 0; n < namespaces; n++) {
    const ns = `bench-${n}`;
    const apps = Array.from({ length: appsPerNamespace }, (_, a) => `${ns}-app-${a}`);
    for (const [a, app] of apps.entries()) {
      for (const [file, text] of Object.entries(appFiles(ns, app, a > 0 ? apps[a - 1] : undefined, 31000 + n * appsPerNamespace + a))) {
        const target = path.join(root, 'kubernetes/apps', ns, app, file);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
      }
    }
    const resources = apps.map((app) => `  - ./${app}/ks.yaml\n`).join('');
    await writeFile(path.join(root, 'kubernetes/apps', ns, 'kustomization.yaml'), `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\ncomponents:\n  - ../../components/common\nresources:\n${resources}`);
  }
  return { root, files: (await findYamlFiles([path.join(root, 'kubernetes')])).length };
}
