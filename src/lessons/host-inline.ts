// The built-in lessons' host inside workshop's own process. Built as one file with the whole lesson
// API (dist/lesson-inline.js, scripts/build.mjs), which is then what `workshop/lesson` names in this
// process: lesson code and this share one copy of the API and its probe cache, and `next` loads
// one module where it loaded lesson.js and eight chunks of the host's build (issue 26).
// `next`, `check` and `watch` on the lessons shipped with workshop use it: a child's Node start-up
// was most of `next`'s time (issue 26). host.ts talks to it as to the child, through the same
// messages (not cloned: each side builds every message afresh, and Node's first structuredClone
// cost ~5 ms of `next`), and keeps the same time limits: a call past its limit
// ends with the same error row, and the code left running can no longer answer. What a child gives
// and this does not (a SIGKILL for code that never yields, process.exit() made harmless) is kept
// for lesson packs, whose code workshop does not ship: host.ts hosts a chapter here only when its
// steps.ts lies in workshop's own lessons/ (a pack may be in use without --lessons: pack use).
import { EventEmitter } from 'node:events';
import { registerLessonHooks } from './host-hooks.ts';
import type { HostReply, HostRequest } from './host-protocol.ts';
import { serveInline } from './host-serve.ts';
import type { HostProcess } from './host-spawn.ts';

class InlineHost extends EventEmitter implements HostProcess {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  connected = true;
  /** host.ts tells it from a child by this */
  readonly inProcess = true;
  readonly #handle: (req: HostRequest) => void;

  constructor() {
    super();
    this.#handle = serveInline((m: HostReply) => {
      if (!this.connected) return; // stopped: what its code still sends counts for nothing
      queueMicrotask(() => this.emit('message', m));
    });
  }

  send(m: HostRequest): boolean {
    if (!this.connected) return false;
    queueMicrotask(() => this.#handle(m));
    return true;
  }

  /** Stops its answers; code still running goes on, but cannot reach workshop any more. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.connected = false;
    this.signalCode = signal;
    return true;
  }
}

/** A host in this process, for the built-in lessons. */
export function inlineHost(): HostProcess {
  // built, this module is dist/lesson-inline.js, which exports the lesson API too (build.mjs)
  registerLessonHooks(import.meta.url.endsWith('.js') ? new URL(import.meta.url) : undefined);
  return new InlineHost();
}
