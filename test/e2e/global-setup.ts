// Brings the sandbox up once for every e2e file (idempotent: a running sandbox is reused).
// It is taken down by the lifecycle suite, which asserts nothing is left behind.
// After the last file, the checkout must be as the suite found it: a test edits a copy of the
// workspace, never the checkout (a failure here fails the run and names the paths).
import { $ } from 'zx';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';
import { assertCheckoutUnchanged, checkoutState } from '../helpers/checkout-state.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const before = await checkoutState(workspaceRoot);
  await $({ cwd: workspaceRoot, stdio: ['ignore', 'inherit', 'inherit'] })`node scripts/sandbox.ts up`;
  return () => assertCheckoutUnchanged(workspaceRoot, before);
}
