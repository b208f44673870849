// Errors that name what failed, what was expected and how to fix it, keeping the cause.
// They never carry raw API exception text (which dumps headers and bodies) or secret values.

export interface BootstrapErrorDetails {
  /** The file, field or Kubernetes resource at fault, e.g. "clusters/infra/cluster.yaml: identity.server". */
  subject: string;
  /** What went wrong, in one sentence. */
  problem: string;
  /** What the user should do about it. */
  fix?: string;
  cause?: unknown;
  /** The exit code when this error ends a task, if not the task's own error code. */
  exitCode?: number;
}

export class BootstrapError extends Error {
  readonly subject: string;
  readonly problem: string;
  readonly fix: string | undefined;
  readonly exitCode: number | undefined;

  constructor(details: BootstrapErrorDetails) {
    super(formatMessage(details), { cause: details.cause });
    this.name = 'BootstrapError';
    this.subject = details.subject;
    this.problem = details.problem;
    this.fix = details.fix;
    this.exitCode = details.exitCode;
  }
}

function formatMessage({ subject, problem, fix }: BootstrapErrorDetails): string {
  return fix ? `${subject}: ${problem}\n  fix: ${fix}` : `${subject}: ${problem}`;
}

/** Several failures reported together (verify collects them all before failing). */
export class AggregateBootstrapError extends Error {
  readonly failures: string[];

  constructor(summary: string, failures: string[]) {
    super(`${summary}\n${failures.map((f) => `  ✗ ${f}`).join('\n')}`);
    this.name = 'AggregateBootstrapError';
    this.failures = failures;
  }
}
