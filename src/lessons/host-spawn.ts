// Starts the lesson host: a child process (host-child.ts; dist/lesson-host.js when built) that runs
// every line of lesson code, so that no lesson can end, freeze or fool workshop itself. Small and
// apart from host.ts so that bin.ts can start it before main.ts loads, for the commands that always
// run lesson code: the host's own Node start-up (~21 ms here) then overlaps workshop's.
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HostRequest } from './host-protocol.ts';

/** What host.ts needs of a host: a child process, or the built-in lessons' host in this process (host-inline.ts). */
export interface HostProcess {
  send(m: HostRequest): boolean;
  on(event: 'message', listener: (m: unknown) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  removeAllListeners(): this;
  kill(signal: NodeJS.Signals): boolean;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly connected: boolean;
}

const built = import.meta.url.endsWith('.js');
/** The host's entry: the built bundle beside this chunk, or the source when run from src (vitest). */
const entry = (): string => fileURLToPath(new URL(built ? './lesson-host.js' : './host-child.ts', import.meta.url));
/**
 * The Node that runs it: workshop's own. From src, the project's Node 24, which strips the types
 * of host-child.ts: vitest may run on another Node (land.sh's node_modules/.bin/vitest on the
 * machine's Node 20).
 */
function node(): string {
  if (built) return process.execPath;
  const project = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
  return existsSync(project) ? project : process.execPath;
}

/**
 * The lesson output (console.log, a tool's own output) goes to workshop's stderr: stdout carries
 * only workshop's own output, so that `--json` is one document even when a steps.ts prints.
 * stdin is /dev/null: a solution never waits for the terminal.
 */
export function spawnLessonHost(): HostProcess {
  const { spawn } = process.getBuiltinModule('node:child_process');
  // Without WebAssembly's guard regions (lesson code has no use for them) Node starts in ~4 ms
  // less CPU here (perf stat: 23.2 against 27.2 ms for an empty script).
  const child = spawn(node(), ['--disable-wasm-trap-handler', entry()], { stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced' });
  // An idle host never keeps workshop alive; a call in flight does, through its deadline timer.
  child.unref();
  child.channel?.unref();
  return child;
}

let early: HostProcess | undefined;

/** Starts the host now, for a command that will certainly run lesson code (`next`, `check`, …). */
export function prewarmLessonHost(): void {
  early ??= spawnLessonHost();
}

/** The built-in lessons' host in this process (host-inline.ts), once loaded. */
let inline: (() => HostProcess) | undefined;
let inlineLoading: Promise<void> | undefined;
const inlineEntry = (): string => new URL(built ? './lesson-inline.js' : './host-inline.ts', import.meta.url).href;

/**
 * Loads the host for the built-in lessons in this process, for `next`, `check` and `watch` without
 * `--lessons` (bin.ts). If it cannot load, the child is used, as for a pack.
 */
export function prewarmInlineHost(): void {
  inlineLoading ??= import(inlineEntry()).then(
    (mod: unknown) => {
      const make: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'inlineHost') : undefined;
      if (typeof make === 'function') inline = () => Reflect.apply(make, undefined, []) as HostProcess;
    },
    () => undefined,
  );
}

/** Resolves when the host that {@link takeLessonHost} returns can be taken. */
export const lessonHostReady = (): Promise<void> => inlineLoading ?? Promise.resolve();

/** The lessons shipped with workshop: only their code may run in workshop's own process. */
const BUILT_IN = fileURLToPath(new URL(built ? '../lessons/' : '../../lessons/', import.meta.url));

/**
 * Whether a steps.ts is one of the built-in lessons. A pack may be in use without `--lessons`
 * (`workshop pack use`), so the file decides, not the command line.
 */
export const isBuiltInLesson = (stepsPath: string): boolean => {
  try {
    return realpathSync(stepsPath).startsWith(BUILT_IN);
  } catch {
    return false;
  }
};

/**
 * The host started by {@link prewarmLessonHost}, the one in this process (for `builtIn` code only,
 * once loaded), or a new child. (A child never used ends when workshop does: its channel closes.)
 */
export function takeLessonHost(builtIn: boolean): HostProcess {
  if (inline && builtIn) return inline();
  const child = early ?? spawnLessonHost();
  early = undefined;
  return child;
}
