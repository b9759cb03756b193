#!/usr/bin/env node
import { verbOf } from './verb.ts';
// Node's compile cache keeps V8's code and, for lesson steps.ts files, the result of type
// stripping (35 ms per chapter otherwise, measured). It lives in the project, which workshop
// owns, not in /tmp; where it cannot be written (a learner without root) Node just skips it.
// node:module is taken from getBuiltinModule: an import would make it a chunk of its own, one
// more file for every command to load.
const { enableCompileCache, registerHooks } = process.getBuiltinModule('node:module');
enableCompileCache(new URL('../node_modules/.cache/workshop-compile/', import.meta.url).pathname);
// Node resolves each `import "./chunk-X.js"` afresh for every module that names it (the cache is
// keyed by the importer): a realpath, a stat and a look for package.json each time, ~5M
// instructions of `hint` and `next` (issue 26). The bundle's chunks lie beside this file and are
// ES modules (package.json: "type": "module"), so their URL is known without asking the disk.
// (From src, under vitest, no specifier names a chunk.)
const own = new URL('./', import.meta.url).href;
const CHUNK = /^\.\/chunk-[A-Z0-9]+\.js$/;
registerHooks({
  resolve(specifier, context, next) {
    const parent = context.parentURL;
    if (CHUNK.test(specifier) && parent?.startsWith(own) && !parent.includes('/', own.length)) return { url: own + specifier.slice(2), format: 'module', shortCircuit: true };
    return next(specifier, context);
  },
});
const argv = process.argv.slice(2);
// These commands always run lesson code, which runs in the lesson host, a child process: starting
// it first thing overlaps its Node start-up with workshop's own (src/lessons/host-spawn.ts).
// (`test` runs again in a private /tmp namespace first, and starts its host there.)
const LESSON_VERBS = new Set(['next', 'check', 'solve', 'watch']);
// The built-in lessons, which ship with workshop, run in workshop's own process for the commands
// a learner waits on; a pack's code (--lessons) always runs in the child (host-inline.ts says why).
const INLINE_VERBS = new Set(['next', 'check', 'watch']);
const verb = verbOf(argv);
if (verb !== undefined && LESSON_VERBS.has(verb) && !argv.includes('--help')) {
  const spawn = await import('../lessons/host-spawn.ts');
  const pack = argv.some((a) => a === '--lessons' || a.startsWith('--lessons='));
  if (INLINE_VERBS.has(verb) && !pack) spawn.prewarmInlineHost();
  else spawn.prewarmLessonHost();
}
// `workshop` and `workshop status` without flags need no engine: src/cli/quick.ts
const quick = argv.length <= 1 && (argv[0] ?? 'status') === 'status' && (await import('./quick.ts')).quickStatus(argv);
if (!quick) {
  const { runMain } = await import('./main.ts');
  await runMain(argv);
}
