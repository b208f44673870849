// A small CLI over the real runner, for the interrupt and orphan tests: each scenario prints
// "ready <json>" on stdout once it is where the test wants to signal or kill it.
import { runCommand } from '../../tasks/lib/runner/task.ts';
import { duringWrite } from '../../tasks/lib/runtime/interrupt.ts';
import { toolShell } from '../../tasks/lib/tools/run-tool.ts';
import { waitUntilReady } from '../../tasks/lib/cluster/wait.ts';
import { runWriteQueue } from '../../tasks/lib/runtime/write-queue.ts';

const ready = (data: object = {}) => process.stdout.write(`ready ${JSON.stringify(data)}\n`);
const neverReady = async () => new Map([['crd-a', { ready: true, reason: 'ok' }]]);
const waitForCrds = () => waitUntilReady(['crd-a', 'crd-b'], neverReady, { timeoutMs: 600_000, intervalMs: 10_000, what: 'CRDs to be Established' });

/** A tool that starts a grandchild, as helmfile starts helm; resolves with both PIDs once they run. */
function startTool(write: boolean) {
  const tool = toolShell('sh', { write })`sh -c ${'sleep 300 & echo $$ $!; wait'}`;
  return new Promise<{ tool: number; grandchild: number; done: Promise<unknown> }>((resolve) => {
    tool.stdout.once('data', (chunk: Buffer) => {
      const [pid, grandchild] = chunk.toString().trim().split(' ').map(Number);
      resolve({ tool: pid!, grandchild: grandchild!, done: tool });
    });
  });
}

const scenarios: Record<string, () => Promise<number>> = {
  async wait() {
    setTimeout(ready, 200);
    await waitForCrds();
    return 0;
  },
  async write() {
    const written: number[] = [];
    const queue = runWriteQueue([1, 2, 3], async (n) => {
      await duringWrite(async () => {
        if (n === 1) ready();
        await new Promise((resolve) => setTimeout(resolve, 2500));
        written.push(n);
      });
    }, 1);
    const result = await queue;
    process.stderr.write(`written ${JSON.stringify(result.done)} not written ${JSON.stringify(result.notDone)}\n`);
    await waitForCrds();
    return 0;
  },
  async hung() {
    setTimeout(ready, 200);
    // Like a request to a server that never answers: a handle keeps the process alive.
    await new Promise(() => setInterval(() => undefined, 60_000));
    return 0;
  },
  async children() {
    const reader = await startTool(false);
    const writer = await startTool(true);
    ready({ reader: [reader.tool, reader.grandchild], writer: [writer.tool, writer.grandchild] });
    await reader.done;
    await waitForCrds();
    return 0;
  },
  async failure() {
    const reader = await startTool(false);
    ready({ reader: [reader.tool, reader.grandchild] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    throw new Error('a parallel step failed');
  },
};

const scenario = process.argv[2] ?? '';
await runCommand(`scenario ${scenario}`, 1, scenarios[scenario]!, { stopsSafely: true });
