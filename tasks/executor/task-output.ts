// Output of a batch, attributed to the task that wrote it. In Nx's batch mode every phase shares
// one process, so stdout and stderr are one stream; Nx shows (and caches) each task's output from
// the `terminalOutput` its result carries. Every write made while a task runs (its own code and
// every promise it started, two clusters' phases side by side included) is recorded for that task
// through AsyncLocalStorage instead of written: Nx prints it under the task's own header when the
// task ends, in every output style the way it prints any task's output (stream and static in full,
// the default collapsed unless it failed, the TUI in the task's pane) and replays it on a cache
// hit. Written through as well, the worker's stream would show every line twice with
// --outputStyle=stream (measured on Nx 24.0.6). Writes outside a task (the batch's own) go through.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<string[]>();
let installed = false;

/** Wraps process.stdout and process.stderr once, so writes inside `captured` are recorded. */
export function recordTaskOutput(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const task = current.getStore();
      if (!task) return write(chunk, ...rest);
      task.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
      const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    }) as typeof stream.write;
  }
}

/** Runs `body`, returning its result and everything it wrote while recordTaskOutput is installed. */
export async function captured<T>(body: () => Promise<T>): Promise<{ value: T; output: string }> {
  const chunks: string[] = [];
  const value = await current.run(chunks, body);
  return { value, output: chunks.join('') };
}
