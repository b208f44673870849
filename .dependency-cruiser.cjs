// The layering the code keeps: no import cycles, and the engine (tasks/) never reaches into the
// sandbox or the tests (scripts/, test/). npm test runs this before the unit tests.
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
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // TypeScript 7 (the Go compiler) has no JS API yet: dependency-cruiser reads .ts with swc.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
