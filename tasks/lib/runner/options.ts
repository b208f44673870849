// Every task option, declared once: its flag, its schema, its help text and the tasks that take
// it. The parser, the validation, the usage text and the option table of docs/options.md are
// derived from this table (a test checks the page against it). A new option is one entry here.
import { z } from 'zod';
import { KUBERNETES_MINORS } from '../model/kubernetes-versions.ts';
import type { PhaseName } from '../model/phases.ts';

/** The targets of the phase table, and the one CLI that is no target. */
export type TaskName = PhaseName | 'compare-bundles';

export interface OptionSpec {
  /** The flag as typed, with its value's placeholder: "--timeout <seconds>", "--dry-run". */
  flag: string;
  schema: z.ZodType;
  help: string;
  /** The tasks that take it. Phases that write also take the runner's WRITE_OPTIONS. */
  tasks: readonly TaskName[];
  /** An environment variable that sets a boolean option when it is "1". */
  env?: string;
}

const SECONDS = 'must be a whole number of seconds';
const MINOR = z.enum(KUBERNETES_MINORS, { error: `must be a Kubernetes minor with a built-in kind list: ${KUBERNETES_MINORS.join(', ')}` }).optional();

export const OPTIONS = {
  context: {
    flag: '--context <name>',
    schema: z.string().min(1).optional(),
    help: "overrides cluster.yaml's context (the identity guard still applies)",
    tasks: ['verify', 'plan', 'drift', 'upgrade-check'],
  },
  dryRun: { flag: '--dry-run', schema: z.boolean().default(false), help: 'print the plan, write nothing', tasks: ['crds'] },
  json: { flag: '--json', schema: z.boolean().default(false), help: 'the report as JSON on stdout', tasks: ['plan', 'drift', 'upgrade-check', 'audit', 'compare-bundles', 'rehearse', 'kube-upgrade-check'] },
  format: {
    // No "|" in the placeholder: the README's option table is a Markdown table.
    flag: '--format <format>',
    schema: z.enum(['text', 'markdown']).default('text'),
    help: 'text (default), or markdown: the verdict and findings first, then the full report folded away (a pull-request comment)',
    tasks: ['plan', 'drift', 'upgrade-check', 'audit', 'compare-bundles', 'rehearse'],
  },
  timeout: {
    flag: '--timeout <seconds>',
    // Digits only: Number() would also take 1e3, 0x10 or ' 7 '. Unset: the task's default applies
    // (core leaves helm's wait to helmfile.d's helmDefaults.timeout).
    schema: z.string().regex(/^[1-9]\d*$/, SECONDS).transform(Number).optional(),
    help: 'how long every wait may last (default 180 s; core: helmDefaults.timeout of 01-core)',
    tasks: ['render-crds', 'verify', 'upgrade-check', 'rehearse'],
  },
  allowBreaking: {
    flag: '--allow-breaking',
    schema: z.boolean().default(false),
    help: 'apply CRD changes the rules call breaking (also BOOTSTRAP_ALLOW_BREAKING=1)',
    tasks: ['crds'],
    env: 'BOOTSTRAP_ALLOW_BREAKING',
  },
  recover: { flag: '--recover', schema: z.boolean().default(false), help: 'roll back (or uninstall) releases an interrupted helm left pending', tasks: ['core'] },
  waitForLock: { flag: '--wait-for-lock', schema: z.boolean().default(false), help: "wait (up to --timeout) for another run's lease on the cluster instead of refusing", tasks: [] },
  gitopsRoot: {
    flag: '--gitops-root <dir>',
    schema: z.string().min(1).optional(),
    help: 'judge another checkout of the GitOps repository (through Nx: BOOTSTRAP_GITOPS_ROOT)',
    tasks: ['audit', 'rehearse', 'kube-upgrade-check'],
  },
  base: {
    flag: '--base <git ref>',
    schema: z.string().min(1).optional(),
    help: "against the bundle at a git ref (rendered in a throwaway worktree); upgrade-check then reads no cluster, only the tree's objects",
    tasks: ['compare-bundles', 'upgrade-check'],
  },
  failOn: {
    flag: '--fail-on <when>',
    schema: z.enum(['findings', 'never'], { error: 'must be findings (exit 1 on findings, the default) or never (exit 0 whatever it finds)' }).default('findings'),
    help: 'findings (default): exit 1 when the report finds something; never: exit 0, the findings in its output (what Nx runs a cached report with, so that it is cached; scripts/gate.ts is the gate)',
    tasks: ['plan', 'drift', 'upgrade-check', 'audit', 'kube-upgrade-check', 'rehearse'],
  },
  verbose: { flag: '--verbose', schema: z.boolean().default(false), help: 'also list what was not judged and why', tasks: ['audit'] },
  checkObjects: {
    flag: '--check-objects',
    schema: z.boolean().default(false),
    help: 'have kube-apiserver judge every object of the changed CRDs before anything is written',
    tasks: ['crds'],
  },
  from: {
    flag: '--from <minor>',
    schema: MINOR,
    help: "the Kubernetes minor the cluster runs now (default: cluster.yaml's kubernetesVersion)",
    tasks: ['kube-upgrade-check'],
  },
  to: {
    flag: '--to <minor>',
    schema: MINOR,
    help: "the Kubernetes minor to judge the tree, charts and CRDs against (default: cluster.yaml's kubernetesVersion)",
    tasks: ['kube-upgrade-check'],
  },
} satisfies Record<string, OptionSpec>;

export type OptionTable = Record<string, OptionSpec>;
export type OptionName = keyof typeof OPTIONS;

/** What every phase that writes takes, whether or not the table lists it: the runner uses them. */
export const WRITE_OPTIONS = ['context', 'timeout', 'waitForLock'] as const;

/** "--wait-for-lock" for "waitForLock". */
export const flagName = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The options `task` takes, in table order. */
export function optionsOf(task: string, { writes = false } = {}, table: OptionTable = OPTIONS): string[] {
  return Object.entries(table)
    .filter(([name, spec]) => (spec.tasks as readonly string[]).includes(task) || (writes && (WRITE_OPTIONS as readonly string[]).includes(name)))
    .map(([name]) => name);
}

/** The option table of docs/options.md, one row per option: the flag, the tasks that take it, what it does. */
export function optionsTableMarkdown(table: OptionTable = OPTIONS): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const tasks = spec.tasks.map((t) => `\`${t}\``);
    if ((WRITE_OPTIONS as readonly string[]).includes(name)) tasks.unshift('every phase that writes');
    return `| \`${spec.flag}\` | ${tasks.join(', ')} | ${spec.help} |`;
  });
  return ['| option | taken by | what it does |', '|---|---|---|', ...rows].join('\n');
}
