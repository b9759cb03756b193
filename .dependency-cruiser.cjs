// The layer rule of DESIGN.md: cli -> engine -> lessons, render -> checks, and nothing points back
// up. The classroom sits beside the engine: the cli opens it, it reads the engine's event types,
// and the engine never knows it exists. Checked by test/unit/layers.test.ts (and `npx depcruise src`).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    { name: 'low-layers-stay-low', severity: 'error', comment: 'checks, lessons and render never import the engine, the classroom or the cli', from: { path: '^src/(checks|lessons|render)/' }, to: { path: '^src/(engine|classroom|cli)/' } },
    { name: 'checks-are-the-floor', severity: 'error', comment: 'checks import only checks (and src/errors.ts)', from: { path: '^src/checks/' }, to: { path: '^src/(lessons|render)/' } },
    { name: 'sys-is-the-floor', severity: 'error', comment: 'src/sys (processes, the lockfile, VM detection, language helpers) imports only itself and src/errors.ts', from: { path: '^src/sys/' }, to: { path: '^src/', pathNot: '^src/(sys/|errors[.]ts$)' } },
    { name: 'contracts-import-nothing', severity: 'error', comment: 'src/contract holds shapes that every layer shares, so it imports none of them', from: { path: '^src/contract/' }, to: { path: '^src/', pathNot: '^src/contract/' } },
    { name: 'lesson-api-below-the-engine', severity: 'error', comment: 'src/lesson.ts (the pack API) never imports the engine, the classroom or the cli', from: { path: '^src/lesson[.]ts$' }, to: { path: '^src/(engine|classroom|cli)/' } },
    { name: 'cli-through-the-engine', severity: 'error', comment: 'the commands reach the checks only through the engine\'s use cases (engine/journey-steps.ts, engine/lab-network.ts)', from: { path: '^src/cli/' }, to: { path: '^src/checks/' } },
    { name: 'engine-below-cli', severity: 'error', comment: 'the engine never imports the cli or the classroom', from: { path: '^src/engine/' }, to: { path: '^src/(cli|classroom)/' } },
    { name: 'classroom-below-cli', severity: 'error', comment: 'the classroom never imports the cli', from: { path: '^src/classroom/' }, to: { path: '^src/cli/' } },
    { name: 'labs-beside-the-classroom', severity: 'error', comment: 'the hosted labs (VMs, the guest channel) sit beside the classroom: they read the engine (the image), never the classroom or the cli', from: { path: '^src/labs/' }, to: { path: '^src/(classroom|cli)/' } },
    { name: 'nothing-low-imports-labs', severity: 'error', comment: 'checks, lessons, render and the engine never import the labs', from: { path: '^src/(checks|lessons|render|engine)/' }, to: { path: '^src/labs/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist)' },
  },
};
