// Live progress of a wait, on stderr (stdout stays for data and --json). In a terminal: one line
// per thing in flight, redrawn in place (log-update). Elsewhere (CI logs): the lines are printed
// only when what they say changes, at most every few seconds; the elapsed time alone is no change.
import { createLogUpdate } from 'log-update';

export interface ProgressItem {
  /** Stable key, e.g. the release name. */
  key: string;
  /** What is still missing, e.g. "Deployment coredns 1/2 available, 1 pod Pending". */
  text: string;
}

export interface Progress {
  update(items: ProgressItem[], elapsedMs: number): void;
  /** A log line printed above the live lines. */
  print(line: string): void;
  done(): void;
}

export interface ProgressOptions {
  prefix?: string;
  /** Shown as "(8s of 40s)" when known, else "(8s)". */
  timeoutMs?: number;
  /** Minimum time between two plain updates. */
  plainIntervalMs?: number;
  tty?: boolean;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

// A terminal that reports no width (some pseudo-terminals) would get every line cut to nothing.
const drawable = (stream: NodeJS.WriteStream) => stream.isTTY === true && (stream.columns ?? 0) > 0;

export function createProgress(stream: NodeJS.WriteStream, { prefix = '', timeoutMs, plainIntervalMs = 5000, tty = drawable(stream) }: ProgressOptions): Progress {
  const line = (item: ProgressItem, elapsedMs: number) => `${prefix}◎ ${item.key}: ${item.text} (${seconds(elapsedMs)}${timeoutMs ? ` of ${seconds(timeoutMs)}` : ''})`;
  if (tty) {
    const render = createLogUpdate(stream);
    let last = '';
    return {
      update(items, elapsedMs) {
        last = items.map((item) => line(item, elapsedMs)).join('\n');
        render(last);
      },
      print(text) {
        render.clear();
        stream.write(`${text}\n`);
        if (last) render(last);
      },
      done() {
        render.clear();
        render.done();
      },
    };
  }
  let shown = '';
  let shownAt = -Infinity;
  return {
    update(items, elapsedMs) {
      const state = items.map((item) => `${item.key}: ${item.text}`).join('\n');
      if (state === shown || elapsedMs - shownAt < plainIntervalMs) return;
      shown = state;
      shownAt = elapsedMs;
      for (const item of items) stream.write(`${line(item, elapsedMs)}\n`);
    },
    print(text) {
      stream.write(`${text}\n`);
    },
    done() {},
  };
}
