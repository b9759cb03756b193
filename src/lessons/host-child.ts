// The lesson host's entry (dist/lesson-host.js): a child process of workshop that runs all lesson
// code (host.ts says why a process). Before any module of its own loads, it turns on V8's compile
// cache, makes process.exit() and process.reallyExit() throw for lesson code, and points (host-hooks.ts)
// `workshop/lesson` at the lesson API, so that a pack without node_modules still finds it. Then it
// serves workshop's requests (host-serve.ts). It imports nothing statically: what loads before
// the compile cache is on is compiled afresh on every run.

const { enableCompileCache } = process.getBuiltinModule('node:module');
const { fileURLToPath } = process.getBuiltinModule('node:url');

const built = import.meta.url.endsWith('.js');
// the same cache as bin.ts's: the steps.ts files' type stripping is kept there too
if (built) enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/workshop-compile/', import.meta.url)));

/**
 * A lesson that exits (or aborts) would end the host with nothing returned; throwing instead turns the call
 * into an error row or a failed solution that names the line. The host itself leaves with
 * {@link leave}, which restores them first.
 */
const realExit = process.exit.bind(process);
const realReallyExit: unknown = Reflect.get(process, 'reallyExit');
/** workshop's own code, which a stack walks through before it reaches the lesson's */
const own = new URL(built ? './' : '../', import.meta.url).href;

/** The first place in a stack that is lesson code: not workshop's, not Node's, not a package's. */
function lessonFrame(stack: string | undefined): string | undefined {
  for (const line of stack?.split('\n').slice(1) ?? []) {
    const at = /\(?(file:\/\/[^)\s]+?|\/[^)\s]+?):(\d+):\d+\)?$/.exec(line.trim());
    if (!at?.[1] || at[1].startsWith(own) || at[1].includes('/node_modules/')) continue;
    return `${at[1].startsWith('file:') ? fileURLToPath(at[1]) : at[1]}:${at[2]}`;
  }
  return undefined;
}

/** validate.ts's isLessonExit knows it by its name (importing the class would load validate.ts here). */
class LessonExit extends Error {
  override name = 'LessonExit';
  /** what was called, e.g. `process.exit(0)` */
  readonly call: string;
  constructor(call: string, where: string | undefined) {
    super(`it calls ${call}${where ? ` at ${where}` : ''}: lesson code must never end workshop`);
    this.call = call;
  }
}
const refuse = (name: string) => (code?: unknown) => {
  let shown = '';
  try {
    shown = code === undefined ? '' : String(code);
  } catch {
    shown = '…';
  }
  throw new LessonExit(`process.${name}(${shown})`, lessonFrame(new Error().stack));
};
Reflect.set(process, 'exit', refuse('exit'));
Reflect.set(process, 'reallyExit', refuse('reallyExit'));
// abort() would end the host too, and print Node's native and JavaScript stacks on workshop's stderr
Reflect.set(process, 'abort', refuse('abort'));

/** Ends the host (workshop has gone): the lesson's timers must not keep it alive. */
export function leave(): never {
  Reflect.set(process, 'reallyExit', realReallyExit);
  return realExit(0);
}

(await import('./host-hooks.ts')).registerLessonHooks();

const { serve } = await import('./host-serve.ts');
serve(leave);
