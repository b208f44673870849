// postBuild variables as kustomize-controller resolves them: every substituteFrom ConfigMap and
// Secret in order, then the inline substitute on top. Offline, ConfigMaps come from the tree;
// Secret values are never read: each key gets a placeholder (a SOPS file's keys are plain text).
import type { KubernetesObject } from '@kubernetes/client-node';

interface SubstituteReference {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  optional?: boolean;
}

export interface VariableSources {
  /** A ConfigMap or Secret built from the tree, by kind, namespace and name. */
  find(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  /** Keys of a Secret the prereqs phase creates (cluster.yaml prerequisites.secrets). */
  prerequisiteKeys(namespace: string, name: string): string[] | undefined;
}

export interface ResolvedKustomization {
  /** The Kustomization with substituteFrom folded into postBuild.substitute. */
  object: Record<string, unknown>;
  /** substituteFrom references nothing provides (Flux stops the Kustomization until they exist). */
  unresolved: string[];
}

/** The value a Secret-sourced variable gets: recognisable, and never the secret. */
export const secretPlaceholder = (key: string) => `placeholder-${key.toLowerCase().replace(/_/g, '-')}`;

const stripNewlines = (value: string) => value.replace(/\n/g, '');

export function resolveSubstitutions(kustomization: KubernetesObject & { spec?: Record<string, unknown> }, sources: VariableSources): ResolvedKustomization {
  const namespace = kustomization.metadata?.namespace ?? 'default';
  const postBuild = (kustomization.spec?.['postBuild'] ?? {}) as { substitute?: Record<string, string>; substituteFrom?: SubstituteReference[] };
  if (!postBuild.substitute && !postBuild.substituteFrom) return { object: kustomization as Record<string, unknown>, unresolved: [] };

  const vars: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const ref of postBuild.substituteFrom ?? []) {
    const found = sources.find(ref.kind, namespace, ref.name) as (KubernetesObject & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined;
    if (ref.kind === 'ConfigMap' && found) {
      for (const [key, value] of Object.entries(found.data ?? {})) vars[key] = stripNewlines(String(value));
    } else if (ref.kind === 'Secret' && (found || sources.prerequisiteKeys(namespace, ref.name))) {
      const keys = found ? Object.keys({ ...found.data, ...found.stringData }) : sources.prerequisiteKeys(namespace, ref.name)!;
      for (const key of keys) vars[key] = secretPlaceholder(key);
    } else if (!ref.optional) {
      unresolved.push(`${ref.kind}/${ref.name} in ${namespace}`);
    }
  }
  for (const [key, value] of Object.entries(postBuild.substitute ?? {})) vars[key] = stripNewlines(String(value));

  const { substituteFrom: _resolved, ...rest } = postBuild;
  const spec = { ...kustomization.spec, postBuild: { ...rest, substitute: vars } };
  return { object: { ...kustomization, spec } as Record<string, unknown>, unresolved };
}
