// What the helm stand-in counts as the rehearsal's limit rather than the release's failure: a
// Service clusterIP outside the rehearsal's Service range (127.64.0.0/16), asked for at install
// or moved to by an upgrade of a Service core created. Messages as kube-apiserver 1.36 words them.
import { describe, expect, it } from 'vitest';
import { rehearsalLimit } from '../../tasks/lib/rehearsal/helm-standin.ts';

describe('rehearsalLimit', () => {
  it('an install that asks for a clusterIP outside the range', () => {
    expect(rehearsalLimit('Service "kube-dns" is invalid: spec.clusterIPs: Invalid value: ["10.43.0.10"]: failed to allocate IP 10.43.0.10: the provided network does not match the current range')).toMatch(
      /^not rehearsed: the chart pins a Service clusterIP 10\.43\.0\.10, outside the rehearsal's Service range/,
    );
  });

  it('an upgrade that moves a Service core created to a clusterIP outside the range (kube-apiserver\'s words, as kubectl showed them in the sandbox)', () => {
    expect(rehearsalLimit('cannot patch "kube-dns" with kind Service: Service "kube-dns" is invalid: spec.clusterIPs[0]: Invalid value: ["10.43.0.10"]: may not change once set')).toMatch(/clusterIP 10\.43\.0\.10/);
    expect(rehearsalLimit('Service "kube-dns" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.43.0.10"}: may not change once set')).toMatch(/clusterIP 10\.43\.0\.10/);
  });

  it('a clusterIP change inside the range is the release\'s own failure; other errors too', () => {
    expect(rehearsalLimit('Service "x" is invalid: spec.clusterIPs[0]: Invalid value: ["127.64.0.20"]: may not change once set')).toBeUndefined();
    expect(rehearsalLimit('Deployment.apps "coredns" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')).toBeUndefined();
  });
});
