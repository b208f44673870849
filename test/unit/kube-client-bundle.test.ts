// The phases load @kubernetes/client-node from one bundled file (scripts/bundle-kube-client.ts,
// built by scripts/ensure-workspace.sh). It must be the installed version, exporting what the
// package exports, and be what kube.ts actually uses.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { kubeClientBundlePath } from '../../tasks/lib/cluster/kube-client-path.ts';
import { kubeClient } from '../../tasks/lib/cluster/kube-client.ts';

describe('the bundled Kubernetes client', () => {
  const bundle = kubeClientBundlePath();

  it('is built for the installed version', () => {
    expect(existsSync(bundle), `${bundle} is missing: run bash scripts/ensure-workspace.sh`).toBe(true);
  });

  it('exports everything the package exports, and is the copy the tasks load', async () => {
    const [bundled, original] = await Promise.all([import(pathToFileURL(bundle).href), import('@kubernetes/client-node')]);
    expect(Object.keys(bundled).sort()).toEqual(Object.keys(original).sort());
    expect(kubeClient.KubeConfig).toBe(bundled.KubeConfig);
    expect(kubeClient.KubeConfig).not.toBe(original.KubeConfig);
  });
});
