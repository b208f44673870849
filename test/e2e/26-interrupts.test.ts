// Stops when told, never waits for ever: the render lock's holder is known by PID, start time
// and host; one SIGTERM ends a wait on it; a reused PID does not block a render; verify waits
// for a condition an operator sets a moment later, with live progress.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderInputsHash } from '../../tasks/lib/bundle/bundle-files.ts';
import { loadCluster } from '../../tasks/lib/model/config.ts';
import { processStart } from '../../tasks/lib/runtime/process-identity.ts';
import { renderLockFile } from '../../tasks/lib/bundle/render-share.ts';
import { bundleDir, workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { run, testEnv } from '../helpers/sandbox.ts';

/** Starts a task and resolves once its stderr matches `until`; the caller signals it. */
function startTask(args: string[], until: RegExp) {
  const child = spawn(process.execPath, args, { cwd: workspaceRoot, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const reached = new Promise<void>((resolve) =>
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (until.test(stderr)) resolve();
    }),
  );
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, reached, exited };
}

async function lockOfInfra(): Promise<string> {
  return renderLockFile(await renderInputsHash(await loadCluster('infra')));
}

describe('interrupts and locks', () => {
  it('one SIGTERM ends a render waiting on a live holder\'s lock within 2 seconds, naming the wait', async () => {
    const lock = await lockOfInfra();
    const holder = spawn('sleep', ['120']);
    const bundleBefore = await readFile(path.join(bundleDir('infra'), 'manifest.json'), 'utf8').catch(() => '');
    try {
      await mkdir(path.dirname(lock), { recursive: true });
      await writeFile(lock, JSON.stringify({ pid: holder.pid, host: os.hostname(), start: processStart(holder.pid!) }));
      const task = startTask(['tasks/render-crds.ts', '--cluster', 'infra', '--timeout', '600'], /waiting up to 600s to reuse it/);
      await task.reached;
      const signalled = Date.now();
      task.child.kill('SIGTERM');
      const { code, stderr } = await task.exited;
      const took = Date.now() - signalled;
      process.stderr.write(`[interrupts] render-crds stopped ${took} ms after SIGTERM\n`);
      expect(stderr).toContain(`◎ another render of the same inputs is running (pid ${holder.pid} on ${os.hostname()}): waiting up to 600s to reuse it`);
      expect(stderr).toMatch(new RegExp(`✗ render-crds failed: waiting for the render of these 00-crds inputs \\(held by pid ${holder.pid} on [^)]+\\): SIGTERM received after \\d+\\.\\ds`));
      expect(code).toBe(143);
      expect(took).toBeLessThan(2000);
      // Nothing was written: the holder's lock and the bundle are as they were.
      expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(holder.pid);
      expect(await readFile(path.join(bundleDir('infra'), 'manifest.json'), 'utf8').catch(() => '')).toBe(bundleBefore);
    } finally {
      holder.kill();
      await rm(lock, { force: true });
    }
  });

  it('a lock holding the reused PID of an unrelated live process is taken over, and the render says so', async () => {
    const lock = await lockOfInfra();
    const unrelated = spawn('sleep', ['120']);
    try {
      await mkdir(path.dirname(lock), { recursive: true });
      // What an older version wrote, or a crashed render whose PID now belongs to another process.
      await writeFile(lock, JSON.stringify({ pid: unrelated.pid, host: os.hostname(), start: 'an-earlier-boot:12345' }));
      const result = await run`node tasks/render-crds.ts --cluster infra --timeout 30`;
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toContain(`⚠ took over the render lock of pid ${unrelated.pid} on ${os.hostname()}: pid ${unrelated.pid} now belongs to another process (started later)`);
      await expect(readFile(lock, 'utf8')).rejects.toThrow('ENOENT');
    } finally {
      unrelated.kill();
    }
  });

  it('verify waits for a condition that turns Ready a moment later, showing what it waits for', async () => {
    const status = (ready: 'True' | 'False') =>
      run`kubectl --context kwok-apps -n flux-system patch fluxinstance flux --subresource=status --type=json -p ${JSON.stringify([
        { op: 'replace', path: '/status/conditions/0/status', value: ready },
        { op: 'replace', path: '/status/conditions/0/message', value: ready === 'True' ? 'Reconciliation finished' : 'Reconciliation in progress' },
      ])}`;
    const patched = await status('False');
    expect(patched.exitCode, patched.stderr).toBe(0);
    try {
      const task = startTask(['tasks/verify.ts', '--cluster', 'apps', '--timeout', '120'], /conditions: 1 not ready yet/);
      await task.reached;
      expect((await status('True')).exitCode).toBe(0);
      const { code, stderr } = await task.exited;
      expect(stderr).toMatch(/\[apps\] ◎ conditions: 1 not ready yet: FluxInstance flux-system\/flux: Ready=False[^\n]*\(\d+s of 120s\)/);
      expect(stderr).toContain('[apps] ✔ FluxInstance flux-system/flux: Ready=True');
      expect(code, stderr).toBe(0);
    } finally {
      await status('True');
    }
  });
});
