// "Bootstrap done" means the core releases are whole (#37): objects of two core releases deleted
// behind helm's back (a Deployment, a ServiceAccount, a Service, a ConfigMap) fail verify and
// drift naming each; the next bootstrap misses the cache, puts every one back and says so; the
// bootstrap after it is served from the cache again.
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { readObject } from '../../tasks/lib/cluster/kube.ts';
import { kubeFor, run } from '../helpers/sandbox.ts';

const kube = kubeFor('infra');
const deleted: KubernetesObject[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'cert-manager', name: 'cert-manager' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: 'cert-manager', name: 'cert-manager' } },
  // The tree's coredns values (01-core reads them) name its Service kube-dns.
  { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'kube-system', name: 'kube-dns' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'kube-system', name: 'coredns' } },
];
const named = (o: KubernetesObject) => `${o.kind} ${o.metadata!.namespace}/${o.metadata!.name}`;
const releaseOf = (o: KubernetesObject) => (o.metadata!.namespace === 'cert-manager' ? 'cert-manager/cert-manager' : 'kube-system/coredns');

async function gone(object: KubernetesObject): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await readObject(kube, object))) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

describe('a core release with objects deleted behind helm\'s back', () => {
  beforeAll(async () => {
    const bootstrapped = await run`nx run infra:bootstrap --outputStyle=stream`;
    expect(bootstrapped.exitCode, bootstrapped.stdout + bootstrapped.stderr).toBe(0);
    for (const object of deleted) {
      await kube.objects.delete(object);
      expect(await gone(object), named(object)).toBe(true);
    }
  });

  it('fails verify, which names the release, each object and the fix', async () => {
    const result = await run`node tasks/verify.ts --cluster infra --timeout 30`;
    expect(result.exitCode, result.stderr).toBe(1);
    for (const object of deleted) {
      expect(result.stderr).toContain(
        `release ${releaseOf(object)}: ${named(object)} is missing: helm deployed it, the cluster no longer has it; fix: nx run infra:core puts it back`,
      );
    }
    expect(result.stderr).toMatch(/verify of infra failed with 4 check failure\(s\)/);
  });

  it('is drift: each object named with its release', async () => {
    const result = await run`node tasks/drift.ts --cluster infra --json`;
    expect(result.exitCode, result.stderr).toBe(1);
    const { findings } = JSON.parse(result.stdout) as { findings: Array<{ kind: string; subject: string; detail: string }> };
    expect(findings.filter((f) => f.kind === 'missing-object').map((f) => `${f.subject} ${f.detail.split(':')[0]}`).sort()).toEqual(
      deleted.map((o) => `${named(o)} of release ${releaseOf(o)}`).sort(),
    );
  });

  it('a bootstrap misses the cache, puts every object back and says what it repaired', async () => {
    const result = await run`nx run infra:bootstrap --outputStyle=stream`;
    const output = result.stdout + result.stderr;
    expect(result.exitCode, output).toBe(0);
    expect(output).toContain('[infra] • planning every release: missing from the cluster: ');
    expect(output).toContain('[infra] ✔ repaired release cert-manager/cert-manager: put back ServiceAccount cert-manager/cert-manager, Deployment cert-manager/cert-manager');
    expect(output).toContain('[infra] ✔ repaired release kube-system/coredns: put back ConfigMap kube-system/coredns, Service kube-system/kube-dns');
    expect(output).toContain('[infra] ✔ verify done in');
    for (const object of deleted) expect(await readObject(kube, object), named(object)).toBeDefined();
  });

  it('the bootstrap after the repair is served from the cache', async () => {
    const result = await run`nx run infra:bootstrap --outputStyle=stream`;
    const output = result.stdout + result.stderr;
    expect(result.exitCode, output).toBe(0);
    for (const target of ['render-crds', 'prereqs', 'crds', 'core', 'verify']) {
      expect(output).toMatch(new RegExp(`infra:${target}.*(local cache|existing outputs match the cache)`));
    }
  });
});
