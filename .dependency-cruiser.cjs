// The layering the code keeps: no import cycles; the engine (tasks/) never reaches into the
// sandbox or the tests (scripts/, test/); and tasks/lib is floors of domain folders, each importing
// only from the floors beneath it (docs/architecture.md). npm test runs this before the unit tests,
// and test/unit/layout.test.ts plants an upward import to show that it fails.

/** tasks/lib's folders, top floor first. Folders on one floor are peers: they never import each other. */
const FLOORS = [
  ['rehearsal'], // what runs a throwaway Flux: its controllers, the stand-ins, the tree's artifact server, placeholders
  ['runner', 'gitops'], // a target's runtime (task runner, options); the GitOps tree judged against the phases
  ['crds', 'core'], // the CRD phase; the core releases phase
  ['bundle', 'cluster'], // the rendered CRD bundle on disk; everything that talks to an API server
  ['tools'], // helm, helmfile, git, flux-build: the external programs
  ['model'], // what a cluster and a CRD are: cluster.yaml, its target, the CRD shape, the rule catalogue
  ['runtime'], // errors, logs, YAML, locks, signals, child processes: what every task shares
];

const floorRules = FLOORS.flatMap((floor, index) =>
  floor.map((folder) => {
    const notBelow = FLOORS.slice(0, index + 1).flat().filter((other) => other !== folder);
    return {
      name: `layer-${folder}`,
      severity: 'error',
      comment: `tasks/lib/${folder} may import only folders on floors beneath it, never ${notBelow.join(', ')}`,
      from: { path: `^tasks/lib/${folder}/` },
      to: { path: `^tasks/lib/(${notBelow.join('|')})/` },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'an import cycle makes load order matter and layers meaningless',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-not-into-scripts-or-tests',
      severity: 'error',
      comment: 'tasks/ is the engine; scripts/ (sandbox, tools) and test/ build on it, never the reverse',
      from: { path: '^tasks/' },
      to: { path: '^(scripts|test)/' },
    },
    {
      name: 'lib-not-into-targets',
      severity: 'error',
      comment: 'tasks/*.ts are the targets, one file each; tasks/lib is what they share',
      from: { path: '^tasks/lib/' },
      to: { path: '^tasks/[^/]+\\.ts$' },
    },
    {
      name: 'lib-only-domain-folders',
      severity: 'error',
      comment: `tasks/lib holds only the domain folders (${FLOORS.flat().join(', ')}), no loose files`,
      from: { path: `^tasks/lib/(?!(${FLOORS.flat().join('|')})/)` },
      to: {},
    },
    ...floorRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // TypeScript 7 (the Go compiler) has no JS API yet: dependency-cruiser reads .ts with swc.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
