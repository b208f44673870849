// A small logger in flux's style: status to stderr with a few verbs, data to stdout.
// The output stream is replaceable (a prefix names the cluster when phases run in parallel).

export type LogVerb = 'action' | 'success' | 'failure' | 'waiting' | 'info' | 'warning';

const symbols: Record<LogVerb, string> = {
  action: '►',
  success: '✔',
  failure: '✗',
  waiting: '◎',
  info: '•',
  warning: '⚠',
};

export interface Logger {
  action(message: string): void;
  success(message: string): void;
  failure(message: string): void;
  waiting(message: string): void;
  info(message: string): void;
  warning(message: string): void;
}

export interface LineSink {
  write(line: string): unknown;
}

export function createLogger(sink: LineSink = process.stderr, prefix = ''): Logger {
  const emit = (verb: LogVerb) => (message: string) => {
    sink.write(`${prefix}${symbols[verb]} ${message}\n`);
  };
  return {
    action: emit('action'),
    success: emit('success'),
    failure: emit('failure'),
    waiting: emit('waiting'),
    info: emit('info'),
    warning: emit('warning'),
  };
}
