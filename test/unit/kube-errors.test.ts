import { describe, expect, it } from 'vitest';
import { fixForWebhook } from '../../tasks/lib/cluster/kube.ts';

describe('fixForWebhook', () => {
  it('names the webhook and the loopback address nobody answers', () => {
    const message =
      'Internal error occurred: failed calling webhook "e2e.no-backend.example.com": failed to call webhook: Post "https://e2e-no-backend.default.svc:443/validate?timeout=5s": dial tcp 127.64.91.7:443: connect: connection refused';
    expect(fixForWebhook(message)).toBe(
      'no server answers webhook "e2e.no-backend.example.com" at 127.64.91.7:443: on a real cluster, check that the webhook\'s Deployment is Available; ' +
        'in the sandbox, the sandbox agent answers webhooks (npm run sandbox -- up) unless their configuration is labelled sandbox.cluster-bootstrap.io/responder=none',
    );
  });

  it('says nothing about other errors', () => {
    expect(fixForWebhook('admission webhook "webhook.cert-manager.io" denied the request: spec.acme: Required value')).toBeUndefined();
  });
});
