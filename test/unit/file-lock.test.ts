// Locks that know their holder: a reused PID or a dead holder is taken over, a live one or
// another host's is waited for until the deadline, and a signal ends the wait at once.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { withFileLock } from '../../tasks/lib/runtime/file-lock.ts';
import { holderState, processStart, selfIdentity } from '../../tasks/lib/runtime/process-identity.ts';

const lockIn = async () => path.join(await mkdtemp(path.join(os.tmpdir(), 'file-lock-')), 'x.lock');

function events() {
  const seen: string[] = [];
  return { seen, options: { what: 'the test lock', timeoutMs: 600, intervalMs: 20, onWait: (h: string) => seen.push(`wait ${h}`), onTakeover: (h: string, why: string) => seen.push(`takeover ${h}: ${why}`) } };
}

describe('process identity', () => {
  it('tells a live holder from a reused PID, a dead one, a bare PID and another host', () => {
    const self = selfIdentity();
    expect(self.start).toMatch(/^[0-9a-f-]+:\d+$/);
    expect(holderState(self)).toEqual({ state: 'alive' });
    expect(holderState({ ...self, start: `${self.start}0` })).toEqual({ state: 'gone', why: `pid ${self.pid} now belongs to another process (started later)` });
    expect(holderState({ ...self, pid: 999_999_999 })).toEqual({ state: 'gone', why: 'pid 999999999 is not running' });
    expect(holderState({ ...self, start: '' })).toMatchObject({ state: 'gone' });
    expect(holderState({ ...self, host: 'another-host' })).toEqual({ state: 'elsewhere' });
    expect(processStart(999_999_999)).toBeUndefined();
  });
});

describe('file lock', () => {
  it('takes over a lock whose PID now belongs to an unrelated live process, and says why', async () => {
    const file = await lockIn();
    // The case: a bare PID (as older versions wrote) of a process that is alive but not the holder.
    const unrelated = spawn('sleep', ['30']);
    try {
      await writeFile(file, String(unrelated.pid));
      const { seen, options } = events();
      expect(await withFileLock(file, async () => 'rendered', options)).toBe('rendered');
      expect(seen).toEqual([`takeover pid ${unrelated.pid} on ${os.hostname()}: it records no start time, so pid ${unrelated.pid} (running now) cannot be proven to be it`]);
      // The same process recorded with a start time it does not have: a reused PID.
      await writeFile(file, JSON.stringify({ pid: unrelated.pid, host: os.hostname(), start: 'another-boot:1' }));
      const second = events();
      await withFileLock(file, async () => undefined, second.options);
      expect(second.seen).toEqual([`takeover pid ${unrelated.pid} on ${os.hostname()}: pid ${unrelated.pid} now belongs to another process (started later)`]);
    } finally {
      unrelated.kill();
    }
  });

  it('waits for a live holder, and for another host, only until the deadline', async () => {
    const file = await lockIn();
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(file, JSON.stringify({ pid: holder.pid, host: os.hostname(), start: processStart(holder.pid!) }));
      const live = events();
      const error = (await withFileLock(file, async () => 'never', live.options).catch((e: unknown) => e)) as BootstrapError;
      expect(error).toBeInstanceOf(BootstrapError);
      expect(error.message).toBe(`x.lock: the test lock is still held by pid ${holder.pid} on ${os.hostname()} after 1s\n  fix: wait for pid ${holder.pid} to finish, or rerun with a longer --timeout`);
      expect(live.seen).toEqual([`wait pid ${holder.pid} on ${os.hostname()}`]);

      await writeFile(file, JSON.stringify({ pid: 1, host: 'ci-runner-7', start: 'b:1' }));
      const remote = events();
      const elsewhere = (await withFileLock(file, async () => 'never', remote.options).catch((e: unknown) => e)) as BootstrapError;
      expect(elsewhere.message).toBe(`x.lock: the test lock is still held by pid 1 on ci-runner-7 after 1s\n  fix: it is held from another host: let that run finish, or delete ${file} if it crashed`);
    } finally {
      holder.kill();
    }
  });
});
