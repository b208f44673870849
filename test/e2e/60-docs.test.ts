// The docs run: every block marked runnable in README.md and docs/ (docs/runnable-docs.md) runs on
// the sandbox, in the order a reader meets them (README first: its first block bootstraps both
// clusters), as bash -euo pipefail from the workspace root, and must exit 0 within its timeout.
// A failure names the file and the line of the block.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { docsRunnableBlocks, type RunnableBlock } from '../helpers/runnable-blocks.ts';
import { testEnv } from '../helpers/sandbox.ts';

/** After SIGTERM to the block's process group, this long before SIGKILL. */
const KILL_GRACE_MS = 10_000;

interface BlockRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

function runBlock(block: RunnableBlock): Promise<BlockRun> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends nx and the phases it started, not just bash.
    const child = spawn('bash', ['-euo', 'pipefail', '-c', block.code], { cwd: workspaceRoot, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone already
      }
    };
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      grace = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    }, block.timeoutSeconds * 1000);
    child.on('error', reject);
    // 'close' waits for the output pipes; a process the block left running in the background
    // (none should) could hold them open, so the result is taken at most 2 s after bash exits.
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ code, signal, output, timedOut });
    };
    child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 2_000).unref());
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function failure(block: RunnableBlock, run: BlockRun): string {
  const how = run.timedOut ? `did not finish within ${block.timeoutSeconds}s (killed)` : run.signal ? `was killed by ${run.signal}` : `exited ${run.code}`;
  const tail = run.output.trimEnd().split('\n').slice(-60).join('\n');
  return `${block.file}:${block.line}: the runnable block ${how}\n--- the block\n${block.code}\n--- the end of its output\n${tail}\n---`;
}

const blocks = await docsRunnableBlocks();
const title = (block: RunnableBlock) => `${block.file}:${block.line}: ${block.code.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))?.trim() ?? ''}`;

describe('runnable docs', () => {
  it('finds the runnable blocks of README.md and docs/', () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  for (const block of blocks) {
    it(title(block), { timeout: block.timeoutSeconds * 1000 + KILL_GRACE_MS + 5_000 }, async () => {
      const run = await runBlock(block);
      expect(run.code, failure(block, run)).toBe(0);
    });
  }
});
