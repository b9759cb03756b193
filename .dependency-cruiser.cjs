// The layers of docs/ARCHITECTURE.md, pointing one way:
//   cli -> engine -> lessons | checks | render -> contract -> sys
// The classroom and the hosted labs sit beside the engine (the cli opens them; the engine never
// knows they exist). src/lesson.ts, the pack API, sits with the lessons: it never imports the
// engine. The cli never imports checks directly: it asks the engine. Checked by
// test/unit/layers.test.ts on the real import graph (and `npx depcruise src`).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    { name: 'sys-is-the-floor', severity: 'error', comment: 'src/sys (processes, files, locks, the host) imports only sys and src/errors.ts', from: { path: '^src/sys/' }, to: { path: '^src/', pathNot: '^src/(sys/|errors\\.ts$)' } },
    { name: 'contract-is-data', severity: 'error', comment: 'src/contract (the JSON contracts) imports only sys and contract', from: { path: '^src/contract/' }, to: { path: '^src/', pathNot: '^src/(sys|contract)/|^src/errors\\.ts$' } },
    { name: 'checks-stay-low', severity: 'error', comment: 'checks import only checks, contract and sys', from: { path: '^src/checks/' }, to: { path: '^src/', pathNot: '^src/(checks|contract|sys)/|^src/errors\\.ts$' } },
    { name: 'render-stays-low', severity: 'error', comment: 'render draws what it is given: it never imports the engine, the classroom, labs or the cli', from: { path: '^src/render/' }, to: { path: '^src/(engine|classroom|labs|cli)/|^src/lesson\\.ts$' } },
    { name: 'render-beside-lessons', severity: 'error', comment: "render reads lessons' types, fills a step's placeholders (lessons/markdown.ts) and draws its questions from their parser (lessons/questions.ts), nothing else of them", from: { path: '^src/render/' }, to: { path: '^src/lessons/', pathNot: '^src/lessons/(markdown|questions)\\.ts$', dependencyTypesNot: ['type-only'] } },
    { name: 'lessons-below-engine', severity: 'error', comment: 'the lesson loader and the pack API (src/lesson.ts) never import the engine, the classroom, labs or the cli', from: { path: '^src/(lessons/|lesson\\.ts$)' }, to: { path: '^src/(engine|classroom|labs|cli)/' } },
    { name: 'engine-below-cli', severity: 'error', comment: 'the engine never imports the cli, the classroom or the labs', from: { path: '^src/engine/' }, to: { path: '^src/(cli|classroom|labs)/' } },
    { name: 'classroom-beside-engine', severity: 'error', comment: 'the classroom never imports the cli', from: { path: '^src/classroom/' }, to: { path: '^src/cli/' } },
    { name: 'labs-beside-the-classroom', severity: 'error', comment: 'the hosted labs (VMs, the guest channel) never import the classroom or the cli', from: { path: '^src/labs/' }, to: { path: '^src/(classroom|cli)/' } },
    { name: 'cli-asks-the-engine', severity: 'error', comment: 'the cli never imports checks: an engine use case runs them', from: { path: '^src/cli/' }, to: { path: '^src/checks/' } },
    {
      name: 'cli-asks-the-engine-for-lessons',
      severity: 'error',
      comment: "the cli loads no lesson code itself (the engine does). It may read lessons' types, the chapter catalogue (quick status reads it without the engine, for speed) and start the lesson host early (bin.ts)",
      from: { path: '^src/cli/' },
      to: { path: '^src/lessons/', pathNot: '^src/lessons/(catalog|host-spawn)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist)' },
  },
};
