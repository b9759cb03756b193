// Starts the lesson host: a child process (host-child.ts; dist/lesson-host.js when built) that runs
// every line of lesson code, so that no lesson can end, freeze or fool workshop itself. Small and
// apart from host.ts so that bin.ts can start it before main.ts loads, for the commands that always
// run lesson code: the host's own Node start-up (~21 ms here) then overlaps workshop's.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
export function spawnLessonHost(): ChildProcess {
  const { spawn } = process.getBuiltinModule('node:child_process');
  // Without WebAssembly's guard regions (lesson code has no use for them) Node starts in ~4 ms
  // less CPU here (perf stat: 23.2 against 27.2 ms for an empty script).
  const child = spawn(node(), ['--disable-wasm-trap-handler', entry()], { stdio: ['ignore', 2, 2, 'ipc'], serialization: 'advanced' });
  // An idle host never keeps workshop alive; a call in flight does, through its deadline timer.
  child.unref();
  child.channel?.unref();
  return child;
}

let early: ChildProcess | undefined;

/** Starts the host now, for a command that will certainly run lesson code (`next`, `check`, …). */
export function prewarmLessonHost(): void {
  early ??= spawnLessonHost();
}

/** The host started by {@link prewarmLessonHost}, or a new one. (A host never used ends when workshop does: its channel closes.) */
export function takeLessonHost(): ChildProcess {
  const child = early ?? spawnLessonHost();
  early = undefined;
  return child;
}
