// Brings the sandbox up once for every e2e file (idempotent: a running sandbox is reused).
// It is taken down by the lifecycle suite, which asserts nothing is left behind.
import { $ } from 'zx';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

export default async function setup(): Promise<void> {
  await $({ cwd: workspaceRoot, stdio: ['ignore', 'inherit', 'inherit'] })`node scripts/sandbox.ts up`;
}
