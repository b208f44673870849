// Options are declared once (tasks/lib/runner/options.ts): the parser, the validation, the usage text
// and the table in docs/options.md all come from that table.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPTIONS, optionsOf, optionsTableMarkdown, type OptionTable } from '../../tasks/lib/runner/options.ts';
import { parseTaskOptions } from '../../tasks/lib/runner/task.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

describe('the option table', () => {
  it('is what docs/options.md shows', async () => {
    const page = await readFile(path.join(workspaceRoot, 'docs', 'options.md'), 'utf8');
    const shown = /<!-- options-table[^>]*-->\n([\s\S]*?)\n<!-- \/options-table -->/.exec(page)?.[1];
    expect(shown).toBe(optionsTableMarkdown());
  });

  it('gives each task its options, phases that write also the runner\'s', () => {
    expect(optionsOf('crds', { writes: true })).toEqual(['context', 'dryRun', 'timeout', 'allowBreaking', 'waitForLock', 'checkObjects']);
    expect(optionsOf('audit')).toEqual(['json', 'format', 'gitopsRoot', 'failOn', 'verbose']);
    expect(optionsOf('gitops-tree')).toEqual([]);
  });

  it('adding an option is one entry: the parser, the validation, the usage and the docs table follow', () => {
    const table: OptionTable = {
      ...OPTIONS,
      retries: { flag: '--retries <count>', schema: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).optional(), help: 'how often helm retries', tasks: ['core'] },
    };
    const core = optionsOf('core', { writes: true }, table);
    expect(core).toContain('retries');
    expect(parseTaskOptions(['--cluster', 'infra', '--retries', '3'], core, 'core', table)).toMatchObject({ cluster: 'infra', retries: 3 });
    expect(() => parseTaskOptions(['--cluster', 'infra', '--retries', 'many'], core, 'core', table)).toThrow('option --retries: must be a whole number');
    expect(() => parseTaskOptions(['--cluster', 'infra', '--retries', '3'], optionsOf('verify', {}, table), 'verify', table)).toThrow(
      'option --retries: is not an option of verify\n  fix: verify takes --cluster <name> --context <name> --timeout <seconds>',
    );
    expect(optionsTableMarkdown(table)).toContain('| `--retries <count>` | `core` | how often helm retries |');
  });
});
