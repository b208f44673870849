// A reader of the API without the Kubernetes client's generated API: only its KubeConfig (auth,
// TLS, exec plugins), from a bundle of that class alone (scripts/bundle-kube-client.ts), about
// 0.15 s less to load than the whole client. For tasks/live-state.ts, which Nx runs on every hash.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { jsonGetter, openKubeConfig, type ApiReader, type KubeTarget } from './api-reader.ts';
import { kubeClientBundlePath } from './kube-client-path.ts';

async function loadKubeConfigClass(): Promise<new () => KubeConfig> {
  const bundle = kubeClientBundlePath('config');
  if (existsSync(bundle)) return ((await import(pathToFileURL(bundle).href)) as { KubeConfig: new () => KubeConfig }).KubeConfig;
  return (await import('@kubernetes/client-node')).KubeConfig;
}

const KubeConfigClass = await loadKubeConfigClass();

export function connectReader(target: KubeTarget): ApiReader {
  const { config, server } = openKubeConfig(KubeConfigClass, target);
  return { context: target.context, server, getJson: jsonGetter(config, server) };
}
