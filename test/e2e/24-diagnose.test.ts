// When core waits, the tool shows what it waits on; when it fails, the real reason from the
// cluster, once, with a hint that fits it. Three stand-in failures on the apps cluster (through
// chartValues in its values.yaml, edited in a copy of the workspace): pods that cannot be created
// (a missing PriorityClass), pods that cannot be scheduled (an impossible nodeSelector), and a
// Helm hook Job that fails.
import { cp } from 'node:fs/promises';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleDir, relative } from '../../tasks/lib/runtime/workspace.ts';
import { parse } from 'yaml';
import { writeYaml } from '../../tasks/lib/runtime/yaml.ts';
import { run } from '../helpers/sandbox.ts';
import { withWorkspaceCopy, type WorkspaceCopy } from '../helpers/workspace-copy.ts';

/** Runs `body` in a copy of the workspace whose apps values.yaml has these chartValues. */
async function withChartValues(chartValues: Record<string, unknown>, body: (copy: WorkspaceCopy) => Promise<void>): Promise<void> {
  await withWorkspaceCopy(async (copy) => {
    await copy.edit('clusters/apps/values.yaml', (text) => writeYaml({ ...(parse(text) as Record<string, unknown>), chartValues }));
    // core reads the CRD bundle, and a copy has the workspace's files, not its rendered outputs.
    await cp(bundleDir('apps'), copy.file(relative(bundleDir('apps'))), { recursive: true });
    await body(copy);
  });
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;

/** Each case starts from the pinned values (the checkout's), synced: no failure of the case before it shows up in this one. */
async function converge(): Promise<void> {
  const synced = await run`node tasks/core.ts --cluster apps`;
  expect(synced.exitCode, synced.stderr).toBe(0);
}

describe('diagnosis of a core phase that cannot finish', () => {
  beforeEach(converge);
  afterAll(converge);

  it('pods that cannot be created: names FailedCreate and the missing PriorityClass once, with its fix', async () => {
    await withChartValues({ coredns: { priorityClassName: 'no-such-class' } }, async (copy) => {
      const result = await copy.run`node tasks/core.ts --cluster apps --timeout 30`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('✗ core failed: release "coredns" in helmfile.d/01-core.yaml.gotmpl: helmfile sync failed');
      expect(result.stderr).toContain('  not ready:\n    Deployment kube-system/coredns: ');
      expect(result.stderr).toMatch(/  most likely: FailedCreate: .*no PriorityClass with name no-such-class was found/);
      expect(occurrences(result.stderr, 'no PriorityClass with name no-such-class was found')).toBe(1);
      expect(result.stderr).toContain('fix: the controller cannot create the pods: the message names what is missing or denied (a PriorityClass');
      expect(result.stderr).not.toContain("fix the release's values or chart version");
      expect(occurrences(result.stderr, 'COMBINED OUTPUT')).toBe(0);
    });
  });

  it('pods that cannot be scheduled: names FailedScheduling, shows progress lines without a terminal, and redraws them in one', async () => {
    await withChartValues({ coredns: { nodeSelector: { 'e2e.example.com/pool': 'nowhere' } } }, async (copy) => {
      const plain = await copy.run`node tasks/core.ts --cluster apps --timeout 30`;
      expect(plain.exitCode).toBe(1);
      expect(plain.stderr).toMatch(/  most likely: FailedScheduling: 0\/1 nodes are available: .*node affinity\/selector/);
      expect(plain.stderr).toContain('fix: no node can take the pod: compare its nodeSelector');
      // Without a terminal: plain lines, printed when what is missing changes (not on every poll).
      const progress = plain.stderr.split('\n').filter((l) => l.startsWith('[apps] ◎ coredns: '));
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.length).toBeLessThan(8);
      expect(plain.stderr).not.toContain('\u001b[');

      // In a pseudo-terminal (script(1)): the same lines, redrawn in place with cursor movements.
      const tty = await copy.run`script -qefc ${'stty cols 160 rows 40; node tasks/core.ts --cluster apps --timeout 20'} /dev/null`;
      expect(tty.exitCode).not.toBe(0);
      expect(tty.stdout).toMatch(/◎ coredns: coredns \(Deployment\) \d\/\d (replicas )?(updated|available)/);
      expect(tty.stdout).toMatch(/\u001b\[\d*[AK]|\u001b\[2K/);
    });
  });

  it('a failing Helm hook Job: names its failure and its pod’s exit, with the hook fix', async () => {
    expect((await run`helm uninstall cert-manager --namespace cert-manager --kube-context kwok-apps --wait`).exitCode).toBe(0);
    const values = { 'cert-manager': { startupapicheck: { backoffLimit: 0, podAnnotations: { 'sandbox.cluster-bootstrap.io/simulate': 'container-exits-1' } } } };
    await withChartValues(values, async (copy) => {
      const result = await copy.run`node tasks/core.ts --cluster apps --timeout 60`;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('release "cert-manager" in helmfile.d/01-core.yaml.gotmpl');
      expect(result.stderr).toContain('Job cert-manager/cert-manager-startupapicheck: failed: BackoffLimitExceeded');
      expect(result.stderr).toMatch(/pod cert-manager-startupapicheck-\S+: Failed, Error/);
      expect(result.stderr).toMatch(/most likely: (BackoffLimitExceeded|Error): /);
      expect(result.stderr).toMatch(/fix: (a Job failed, often a Helm hook|the container exits)/);
    });
  });
});
