// SIGINT / SIGTERM and crashes, with real signals to a real process (test/helpers/interrupt-child.ts
// runs the runner): a wait stops at once, a write in flight finishes first, a hung step is ended
// STOP_WITHIN_MS after the signal, and no child or grandchild outlives the run, whether it ends by
// a signal, a failure or a SIGKILL of the runner itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

interface Run {
  child: ChildProcess;
  ready: Promise<Record<string, number[]>>;
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; afterSignalMs: number }>;
  signal(name: NodeJS.Signals): void;
}

function start(scenario: string): Run {
  const child = spawn(process.execPath, [path.join(workspaceRoot, 'test/helpers/interrupt-child.ts'), scenario], { cwd: workspaceRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let signalledAt = 0;
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<Record<string, number[]>>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const line = /^ready (.*)$/m.exec(chunk.toString());
      if (line) resolve(JSON.parse(line[1]!) as Record<string, number[]>);
    });
  });
  const ended = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stderr, afterSignalMs: Date.now() - signalledAt }));
  return {
    child,
    ready,
    ended,
    signal(name) {
      signalledAt = Date.now();
      child.kill(name);
    },
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Processes ended by a group kill are reaped by init a moment later. */
async function gone(pids: number[]): Promise<boolean> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !pids.some(alive);
}

describe('interrupts', () => {
  it('a wait stops at the first SIGTERM, names what it waited for and exits 143', async () => {
    const run = start('wait');
    await run.ready;
    run.signal('SIGTERM');
    const { code, stderr, afterSignalMs } = await run.ended;
    expect(code).toBe(143);
    expect(stderr).toMatch(
      /✗ scenario wait failed: waiting for CRDs to be Established: SIGTERM received after \d+\.\ds; 1 still not ready \(every write before the wait was complete\)\n {2}fix: rerun the same target/,
    );
    // The wait's own interval is 10 s and its deadline 10 min: the signal, not either, ended it.
    expect(afterSignalMs).toBeLessThan(5000);
  });

  it('SIGINT exits 130', async () => {
    const run = start('wait');
    await run.ready;
    run.signal('SIGINT');
    expect((await run.ended).code).toBe(130);
  });

  it('a write in flight finishes first, no new write starts, then the wait stops', async () => {
    const run = start('write');
    await run.ready;
    run.signal('SIGTERM');
    const { code, stderr } = await run.ended;
    expect(stderr).toContain('◎ SIGTERM received: finishing the 1 write(s) in flight, then stopping');
    expect(stderr).toContain('written [1] not written [2,3]');
    expect(stderr).toContain('waiting for CRDs to be Established: SIGTERM received after');
    expect(code).toBe(143);
  });

  it('a step that waits on something that never answers is ended after the signal, naming it', async () => {
    const run = start('hung');
    await run.ready;
    run.signal('SIGTERM');
    const { code, stderr, afterSignalMs } = await run.ended;
    expect(code).toBe(143);
    expect(stderr).toContain('✗ SIGTERM: stopped with no write in flight; rerun the same target to continue');
    expect(afterSignalMs).toBeLessThan(5000);
  });

  it('a second signal exits at once, even with a write in flight', async () => {
    const run = start('write');
    await run.ready;
    run.signal('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.signal('SIGTERM');
    const { code, stderr } = await run.ended;
    expect(code).toBe(143);
    expect(stderr).toContain('✗ SIGTERM received: exiting at once');
    expect(stderr).not.toContain('written [1]');
  });
});

describe('no orphans', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s ends a reading tool and its grandchild at once; the writing tool is let run, then ended on exit', async (signal) => {
    const run = start('children');
    const { reader, writer } = await run.ready;
    run.signal(signal);
    expect(await gone(reader!)).toBe(true);
    const { code } = await run.ended;
    expect(code).toBe(signal === 'SIGINT' ? 130 : 143);
    expect(await gone(writer!)).toBe(true);
  });

  it('a failure ends the tools still running', async () => {
    const run = start('failure');
    const { reader } = await run.ready;
    const { code, stderr } = await run.ended;
    expect(code).toBe(1);
    expect(stderr).toContain('a parallel step failed');
    expect(await gone(reader!)).toBe(true);
  });

  it('a SIGKILL of the runner takes its tools and their children with it', async () => {
    const run = start('children');
    const { reader, writer } = await run.ready;
    run.signal('SIGKILL');
    expect((await run.ended).signal).toBe('SIGKILL');
    expect(await gone([...reader!, ...writer!])).toBe(true);
  });
});
