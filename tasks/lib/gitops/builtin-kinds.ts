// The kinds a Kubernetes minor version serves without any CRD ("apiVersion Kind"), as a
// kube-apiserver of that version serves them by default. Generated from k8s.io/kubernetes itself
// by scripts/generate-builtin-kinds.ts into builtin-kinds/<minor>.json (one file per minor of
// KUBERNETES_MINORS).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterConfig } from '../model/config.ts';
import { KUBERNETES_MINORS } from '../model/kubernetes-versions.ts';
import { groupOf } from '../runtime/manifests.ts';

export function builtinKinds(cluster: ClusterConfig): Promise<Set<string>> {
  return builtinKindsOf(cluster.kubernetesVersion);
}

/** cluster.yaml's schema admits only KUBERNETES_MINORS, and a unit test checks each has its file. */
export async function builtinKindsOf(minor: string): Promise<Set<string>> {
  const file = path.join(import.meta.dirname, 'builtin-kinds', `${minor}.json`);
  return new Set((JSON.parse(await readFile(file, 'utf8')) as { kinds: string[] }).kinds);
}

/** Every API group some known minor serves built in ("" for the core group): Kubernetes' own groups. */
export async function builtinGroups(): Promise<Set<string>> {
  const lists = await Promise.all(KUBERNETES_MINORS.map(builtinKindsOf));
  return new Set(lists.flatMap((kinds) => [...kinds].map((entry) => groupOf(entry.split(' ')[0]!))));
}
