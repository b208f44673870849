// The error shape for API failures, the "would this change anything" comparison, and the
// identity guard, against fakes (pure logic; the e2e suite runs them against real API servers).
import { describe, expect, it } from 'vitest';
import { wouldChange } from '../../tasks/lib/cluster/apply.ts';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';
import { guardIdentity } from '../../tasks/lib/cluster/identity.ts';
import { ApiException, apiError, type Kube } from '../../tasks/lib/cluster/kube.ts';

describe('apiError', () => {
  it('keeps the server message and code, never the raw exception dump', () => {
    const body = JSON.stringify({ kind: 'Status', message: 'namespaces "nope" not found', code: 404 });
    const error = apiError(new ApiException(404, 'HTTP-Code: 404 Message: Unknown API Status Code! Headers: {"audit-id":"…"}', body, {}), 'Secret nope/token', 'read failed');
    expect(error.message).toBe(
      'Secret nope/token: read failed: namespaces "nope" not found (HTTP 404)\n  fix: the kind or its namespace does not exist yet: check the CRD phase ran and the namespace is in prerequisites/',
    );
    expect(error.message).not.toContain('Headers');
  });

  it('names the network cause of a request that never got an answer', () => {
    const cause = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:16443'), { code: 'ECONNREFUSED' }) });
    expect(apiError(cause, 'context "kwok-infra"', 'the API server does not answer').problem).toBe('the API server does not answer: fetch failed (ECONNREFUSED)');
  });
});

describe('wouldChange', () => {
  const live = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'monitoring', uid: 'u1', resourceVersion: '42', managedFields: [{ manager: 'x' }], labels: { team: 'obs' } },
    status: { phase: 'Active' },
  };
  it('ignores server bookkeeping and status', () => {
    const dryRun = { ...live, metadata: { ...live.metadata, resourceVersion: '43', managedFields: [] }, status: { phase: 'Terminating' } };
    expect(wouldChange(live, dryRun)).toBe(false);
  });
  it('sees a changed label', () => {
    expect(wouldChange(live, { ...live, metadata: { ...live.metadata, labels: { team: 'platform' } } })).toBe(true);
  });
});

describe('guardIdentity', () => {
  const cluster = { name: 'infra', file: '/work/clusters/infra/cluster.yaml', identity: { server: 'https://127.0.0.1:16443', kubeSystemUID: 'uid-infra' } } as unknown as ClusterConfig;
  const kube = (server: string, uid: string) =>
    ({ context: 'kwok-infra', server, core: { readNamespace: async () => ({ metadata: { uid } }) } }) as unknown as Kube;

  it('passes the pinned cluster', async () => {
    await expect(guardIdentity(kube('https://127.0.0.1:16443/', 'uid-infra'), cluster)).resolves.toBeUndefined();
  });
  it('refuses another server before reading anything, and another kube-system UID', async () => {
    await expect(guardIdentity(kube('https://127.0.0.1:16444', 'uid-infra'), cluster)).rejects.toThrow(
      'identity.server: context "kwok-infra" points at https://127.0.0.1:16444, but cluster "infra" pins https://127.0.0.1:16443; refusing to touch it',
    );
    await expect(guardIdentity(kube('https://127.0.0.1:16443', 'uid-apps'), cluster)).rejects.toThrow(
      'identity.kubeSystemUID: context "kwok-infra" reaches a cluster whose kube-system UID is uid-apps, but cluster "infra" pins uid-infra; refusing to touch it',
    );
  });
});
