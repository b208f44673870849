// The phase table (tasks/lib/model/phases.ts) is the one declaration of a target: the Nx plugin's
// targets, each target's file, the live proof, the rehearsal's sequence and the README's table
// all follow it, and a new phase is one entry plus its file.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterTargets } from '../../tasks/nx-plugin.ts';
import { PHASE_NAMES, PHASES, PROVEN_PHASES, runsAfter, writingChain, type PhaseDecl, type PhaseTable } from '../../tasks/lib/model/phases.ts';
import { optionsOf, WRITE_OPTIONS } from '../../tasks/lib/runner/options.ts';
import { parseTaskOptions } from '../../tasks/lib/runner/task.ts';
import { phaseArgs } from '../../tasks/executor/phase.ts';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

describe('the phase table', () => {
  it('is what the Nx plugin infers: the same targets in the same order, dependsOn its "after"', () => {
    const targets = clusterTargets('edge');
    expect(Object.keys(targets)).toEqual(PHASE_NAMES);
    for (const name of PHASE_NAMES) {
      expect(targets[name]!.dependsOn ?? [], name).toEqual([...PHASES[name].after]);
      expect(targets[name]!.cache, name).toBe(PHASES[name].caching !== 'never');
      expect(targets[name]!.metadata?.description, name).toBe(PHASES[name].description);
    }
  });

  it('has a file tasks/<name>.ts for every target that runs something, exporting `target` of that name', async () => {
    for (const name of PHASE_NAMES.filter((n) => !('aggregate' in PHASES[n]))) {
      const file = path.join(workspaceRoot, 'tasks', `${name}.ts`);
      expect(existsSync(file), file).toBe(true);
      const module = (await import(file)) as { target?: { name: string; execute: unknown; cli: unknown } };
      expect(module.target?.name, file).toBe(name);
      expect(typeof module.target?.execute, file).toBe('function');
    }
  });

  it('gives the live proof its phases and the rehearsal the phases a bootstrap writes with, in order', async () => {
    expect(PROVEN_PHASES).toEqual(['prereqs', 'crds', 'core', 'verify']);
    expect(runsAfter('bootstrap')).toEqual(['prereqs', 'render-crds', 'crds', 'core', 'gitops-tree', 'verify']);
    expect(writingChain()).toEqual(['prereqs', 'crds', 'core']);
    const { BOOTSTRAP_WRITES } = await import('../../tasks/rehearse.ts');
    expect(Object.keys(BOOTSTRAP_WRITES)).toEqual(writingChain());
  });

  it('runs a cached report so that it ends 0 whatever it finds (Nx caches no failure); a --fail-on the user passes comes later and wins', () => {
    const targets = clusterTargets('edge');
    const reports = PHASE_NAMES.filter((n) => 'report' in PHASES[n]);
    expect(reports.filter((n) => targets[n]!.options?.failOn === 'never')).toEqual(['audit']);
    expect(phaseArgs(targets['audit']!.options)).toEqual(['--fail-on', 'never']);
    expect(phaseArgs({ ...targets['audit']!.options, args: ['--fail-on', 'findings'] })).toEqual(['--fail-on', 'never', '--fail-on', 'findings']);
    expect(phaseArgs(targets['plan']!.options)).toEqual([]);
    const argv = ['--cluster', 'edge', ...phaseArgs({ ...targets['audit']!.options, args: ['--fail-on', 'findings'] })];
    expect(parseTaskOptions(argv, optionsOf('audit'), 'audit').failOn).toBe('findings');
  });

  it('matches the README: one row per target, "live" for the live phases, "yes" for the cached ones', async () => {
    const readme = await readFile(path.join(workspaceRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## The phases'), readme.indexOf('**live**: served'));
    const rows = [...table.matchAll(/^\| `([\w-]+)` \|.*\| (\*\*live\*\*|\*\*yes\*\*|no) \|$/gm)].map((m) => [m[1], m[2]]);
    const wanted = { live: '**live**', outputs: '**yes**', never: 'no' } as const;
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(PHASE_NAMES.map((n) => [n, wanted[PHASES[n].caching]])));
  });

  it('takes a new phase as one entry: its target, place in the chain, cumulative inputs, options and the rehearsal follow', () => {
    const backup: PhaseDecl = {
      description: 'Back up what core installed before verify runs',
      after: ['core'],
      access: 'writes',
      caching: 'live',
      inputs: ['charts'],
      proof: { objects: 'releases', dist: [] },
    };
    const table: PhaseTable = { ...PHASES, backup, verify: { ...PHASES.verify, after: ['backup', 'gitops-tree'] } };
    const targets = clusterTargets('edge', table);
    expect(targets['backup']).toMatchObject({ executor: './tasks/executor:phase', options: { script: 'backup', cluster: 'edge' }, dependsOn: ['core'], cache: true });
    // Every input of the phases before it, and the live state.
    for (const input of targets['core']!.inputs!) expect(targets['backup']!.inputs).toContainEqual(input);
    for (const input of targets['backup']!.inputs!) expect(targets['verify']!.inputs).toContainEqual(input);
    expect(writingChain(table)).toEqual(['prereqs', 'crds', 'core', 'backup']);
    expect(optionsOf('backup', { writes: table['backup']!.access === 'writes' })).toEqual([...WRITE_OPTIONS]);
  });
});
