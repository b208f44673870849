// @kubernetes/client-node, loaded from one pre-bundled file when scripts/bundle-kube-client.ts has
// built it for the installed version. Importing the package resolves and reads about 1,000 files
// (its generated API and its dependencies): 1.0-1.5 s of every phase process on 2 cores. The same
// code as one file loads in about 0.4 s. Without the bundle (a plain `npm ci`, a version bump not
// yet bundled) the package itself is loaded: slower, never different.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { kubeClientBundlePath } from './kube-client-path.ts';

export type KubeClientModule = typeof import('@kubernetes/client-node');

async function loadKubeClient(): Promise<KubeClientModule> {
  const bundle = kubeClientBundlePath();
  if (existsSync(bundle)) return (await import(pathToFileURL(bundle).href)) as KubeClientModule;
  return import('@kubernetes/client-node');
}

export const kubeClient: KubeClientModule = await loadKubeClient();
