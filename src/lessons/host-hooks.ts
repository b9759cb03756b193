// How lesson code finds workshop's API, in the lesson host (host-child.ts) and for the built-in
// lessons run inside workshop (host-inline.ts): `workshop/lesson` is the lesson API next to this
// bundle (from src: src/lesson.ts), so that a pack without node_modules still finds it.

const { registerHooks } = process.getBuiltinModule('node:module');
const { existsSync } = process.getBuiltinModule('node:fs');
const { fileURLToPath } = process.getBuiltinModule('node:url');

let registered = false;

/**
 * The build's node:fs/promises on callback fs (scripts/fs-promises-lite.mjs) stands in for the
 * real one, whose loading costs ~26M instructions, for lesson code only: never for a package's,
 * nor for workshop's own modules (which take their built-ins from getBuiltinModule anyway).
 * `api` is the module that `workshop/lesson` names: lesson.js beside this bundle (from src:
 * src/lesson.ts), or the inline host's own bundle, which holds the lesson API too (host-inline.ts).
 */
export function registerLessonHooks(api = new URL(import.meta.url.endsWith('.js') ? './lesson.js' : '../lesson.ts', import.meta.url)): void {
  if (registered) return;
  registered = true;
  const built = import.meta.url.endsWith('.js');
  const own = new URL('./', import.meta.url).href;
  const fsPromises = new URL('./fs-promises.js', import.meta.url);
  const lite = built && existsSync(fileURLToPath(fsPromises));
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'workshop/lesson') return { url: api.href, shortCircuit: true };
      const parent = context.parentURL;
      if (lite && specifier === 'node:fs/promises' && parent?.startsWith('file:') && !parent.includes('/node_modules/') && !parent.startsWith(own)) return { url: fsPromises.href, shortCircuit: true };
      return next(specifier, context);
    },
  });
}
