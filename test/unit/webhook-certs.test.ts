import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCa, issueServerCert } from '../../tasks/lib/cluster/webhook-certs.ts';

describe('sandbox webhook certificates', () => {
  const ca = createCa();
  const server = issueServerCert(ca, ['cert-manager-webhook.cert-manager.svc', 'cert-manager-webhook.cert-manager.svc.cluster.local']);

  it('issues a serving certificate for the Service name, signed by the CA, matching its key', () => {
    const caCert = new X509Certificate(ca.cert);
    const cert = new X509Certificate(server.cert);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost('cert-manager-webhook.cert-manager.svc')).toBe('cert-manager-webhook.cert-manager.svc');
    expect(cert.checkHost('other.cert-manager.svc')).toBeUndefined();
    expect(cert.checkPrivateKey(createPrivateKey(server.key))).toBe(true);
  });
});
