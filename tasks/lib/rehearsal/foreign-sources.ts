// The tree's own GitRepositories (sources other than the one the FluxInstance syncs), served in a
// rehearsal from the local checkouts cluster.yaml's gitops.sources maps them to: each checkout is
// one more repository on the rehearsal's git server, and the tree's GitRepository object is
// pointed at it in the served copy. An unmapped source is left as it is: source-controller never
// fetches it (it watches only labelled sources) and the audit names it "not rehearsed" with the fix.
import path from 'node:path';
import type { DocumentRewrite } from './tree-artifact.ts';
import { REHEARSAL_SOURCE_LABEL } from './flux-controllers.ts';

export interface ForeignGitSource {
  namespace: string;
  name: string;
  /** The local checkout (absolute), served whole. */
  checkout: string;
  /** The served repository's name: <namespace>.<name>, distinct from the synced source's plain name. */
  repository: string;
}

/** The GitRepository entries of gitops.sources ("GitRepository/<namespace>/<name>" → folder). */
export function foreignGitSources(sources: Record<string, string>, workspaceRoot: string): ForeignGitSource[] {
  return Object.entries(sources).flatMap(([key, folder]) => {
    const [kind, namespace, name] = key.split('/') as [string, string, string];
    return kind === 'GitRepository' ? [{ namespace, name, checkout: path.resolve(workspaceRoot, folder), repository: `${namespace}.${name}` }] : [];
  });
}

/** gitops.sources entries the rehearsal does not serve (OCIRepository, Bucket): their Kustomizations cannot come up. */
export function unservedSources(sources: Record<string, string>): string[] {
  return Object.keys(sources).filter((key) => !key.startsWith('GitRepository/'));
}

interface GitRepositoryDocument {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/**
 * Points each mapped GitRepository of the tree at its served copy: url on the loopback server, the
 * ref the checkout is served on (main: the checkout as it is on disk, whatever the tree asks for),
 * no credentials or signature checks (secretRef, provider, proxySecretRef, verify), and the label
 * source-controller watches. A document without a namespace (set by its kustomization.yaml or the
 * Kustomization's targetNamespace) matches by name.
 */
export function pointAtServedCopies(foreign: ForeignGitSource[], urls: Map<string, string>): DocumentRewrite {
  return {
    mentions: /kind:\s*GitRepository/,
    change(document) {
      const repository = document as GitRepositoryDocument;
      if (repository.kind !== 'GitRepository' || !repository.apiVersion?.startsWith('source.toolkit.fluxcd.io/')) return undefined;
      const source = foreign.find((f) => f.name === repository.metadata?.name && (repository.metadata?.namespace ?? f.namespace) === f.namespace);
      const url = source && urls.get(source.repository);
      if (!url) return undefined;
      const { secretRef: _secret, provider: _provider, proxySecretRef: _proxy, verify: _verify, ...spec } = repository.spec ?? {};
      return {
        ...repository,
        metadata: { ...repository.metadata, labels: { ...repository.metadata?.labels, [REHEARSAL_SOURCE_LABEL]: 'true' } },
        spec: { ...spec, url, ref: { branch: 'main' } },
      };
    },
  };
}
