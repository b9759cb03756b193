// workshop's side of the lesson host. All lesson code (steps.ts's import, verify and its checks,
// solve, setup, cleanup, mutants, requirement probes, env) runs in a child process, and every call
// has a time limit kept here, outside that code: a call past its limit gets the host killed
// (SIGKILL, which no lesson can stop), and a result counts only when the host really sends it.
// process.exit() in lesson code throws there (host-child.ts), a promise that nothing settles is
// reported there, and a host that ends for any other reason ends its calls here, with the file.
//
// A child process rather than a worker thread, by measurement on this machine (Node 24, 2 cores):
// both take ~21 ms from spawn to their first line of JavaScript, and cost the parent ~3-4 ms
// synchronously. But a worker blocked in a system call (spawnSync, a read from a FIFO) cannot be
// stopped: worker.terminate() waits for the call to return, and so does the process's exit
// (measured: spawnSync('sleep', ['5']) held process.exit() for 5 s; a FIFO without a writer, for
// ever). A child is killed at once, and its process.exit, process.abort or a signal to itself end
// only the child.
import { writeSync } from 'node:fs';
import { CHECK_TIMEOUT_MS, type CheckResult } from '../checks/check.ts';
import { timeScale } from '../sys/exec.ts';
import { isRecord, monotonicMs } from '../sys/lang.ts';
import { LessonFault, safeString } from '../errors.ts';
import type { LessonProblem } from './catalog.ts';
import type { ChapterPlace } from './context.ts';
import type { Probe } from './define.ts';
import { checkedProbe, checkedResult, type Ask, type ChapterData, type CheckPlan, type Hook, type HostReply, type HostRequest } from './host-protocol.ts';
import { isBuiltInLesson, lessonHostReady, spawnLessonHost, takeLessonHost, type HostProcess } from './host-spawn.ts';
import type { KeyAt } from './scan.ts';
import { hangLine, type ChapterSource } from './validate.ts';

/** How long importing one steps.ts may take: it only defines functions. */
export const IMPORT_TIMEOUT_MS = 5000;
/** How long a hook or a solution may take before workshop stops it: far more than any needs. */
export const HOOK_TIMEOUT_MS = 300_000;
/** What the host has, past a check's own limit (which the host keeps), to send the result. */
const GRACE_MS = 2000;
/**
 * How long the host may take to start. The limits of calls count from its start, not from
 * workshop's: on a busy machine (twenty commands at once on 2 cores) a Node start took seconds.
 */
const BOOT_TIMEOUT_MS = 30_000;

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

type Request = HostRequest extends infer R ? (R extends HostRequest ? Omit<R, 'id'> : never) : never;

interface Call {
  request: Request;
  log: (line: string) => void;
  /** a reply of the host for this call */
  on(reply: HostReply): void;
  /** the call cannot return: the host was stopped or ended; `why` says how */
  end(why: string): void;
  /** arms its time limit: when it is sent, or when the host has started */
  start(call: Call): void;
  timer?: NodeJS.Timeout;
}

export type LoadOutcome = { kind: 'loaded'; chapter: ChapterData } | { kind: 'problems'; problems: LessonProblem[] };

/** Writes text of the host (zx's output) to stderr as workshop's own writes go: synchronously. */
function toStderr(text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(2, buf, off);
  } catch {
    // EAGAIN or EPIPE: what the learner cannot read is dropped
  }
}

export class LessonHost {
  #child: HostProcess | undefined;
  #calls = new Map<number, Call>();
  #nextId = 1;
  /** what each chapter was loaded from, to import it again in a new host */
  #sources = new Map<string, { chapter: ChapterSource; keys?: readonly KeyAt[] }>();
  /** chapters imported in the current host */
  #imported = new Map<string, Promise<void>>();
  /** when the host last said anything (it beats while a call runs) */
  #heard = 0;
  /** the current host has started (it answered the environment); until then no limit runs */
  #started = false;
  #boot: NodeJS.Timeout | undefined;
  /** a chapter of a pack was loaded: from then on, only a child process hosts lesson code */
  #packSeen = false;

  /** Imports a chapter's steps.ts in the host and returns its data, or its problems at file:line. */
  async load(chapter: ChapterSource, keys?: readonly KeyAt[]): Promise<LoadOutcome> {
    this.#sources.set(chapter.id, keys === undefined ? { chapter } : { chapter, keys });
    await lessonHostReady();
    // a pack's code never runs in workshop's own process, whatever was loaded before it
    if (!this.#packSeen && !isBuiltInLesson(chapter.stepsPath)) {
      this.#packSeen = true;
      if (this.#child && 'inProcess' in this.#child) this.#stop('the lesson host was moved to a child process, as a lesson pack was loaded');
    }
    const out = await this.#load(chapter, keys);
    if (out.kind === 'loaded') this.#imported.set(chapter.id, Promise.resolve());
    return out;
  }

  #load(chapter: ChapterSource, keys?: readonly KeyAt[]): Promise<LoadOutcome> {
    const limit = IMPORT_TIMEOUT_MS * timeScale();
    return new Promise((resolve) => {
      const request: Request = { op: 'load', chapter: { id: chapter.id, stepsPath: chapter.stepsPath, mdPath: chapter.mdPath, text: { steps: chapter.text.steps.map((s) => ({ id: s.id, line: s.line })) } }, ...(keys === undefined ? {} : { keys }) };
      this.#call(request, () => {}, limit, {
        on: (r) => {
          if (r.type === 'loaded') resolve({ kind: 'loaded', chapter: r.chapter });
          else if (r.type === 'problems') resolve({ kind: 'problems', problems: r.problems });
          else if (r.type === 'failed') resolve({ kind: 'problems', problems: [{ file: chapter.stepsPath, line: 1, message: `cannot import: ${r.error}` }] });
        },
        end: (why) => resolve({ kind: 'problems', problems: [{ file: chapter.stepsPath, line: hangLine(chapter.stepsPath), message: `importing it ${why}` }] }),
      });
    });
  }

  /** The chapter is imported in the current host (again, if an earlier host was stopped). */
  #ready(chapter: string): Promise<void> {
    let p = this.#imported.get(chapter);
    if (!p) {
      const src = this.#sources.get(chapter);
      if (!src) return Promise.reject(new Error(`chapter ${chapter} was never loaded`));
      p = this.#load(src.chapter, src.keys).then((out) => {
        if (out.kind === 'problems') {
          this.#imported.delete(chapter);
          throw new Error(out.problems.map((q) => `${q.file}:${q.line}: ${q.message}`).join('; '));
        }
      });
      this.#imported.set(chapter, p);
    }
    return p;
  }

  #file(chapter: string): string {
    return this.#sources.get(chapter)?.chapter.stepsPath ?? `chapter ${chapter}`;
  }

  /**
   * Runs a step's checks: its verify builds them, the host runs them concurrently, each within its
   * own limit. Never throws: whatever goes wrong is an error row, with the check's name when known.
   */
  async verify(chapter: string, step: string, place: ChapterPlace, log: (line: string) => void): Promise<CheckResult[]> {
    const whole = `verify of ${chapter}/${step}`;
    try {
      await this.#ready(chapter);
    } catch (err) {
      return [{ status: 'error', check: whole, error: err instanceof Error ? err.message : safeString(err) }];
    }
    const file = this.#file(chapter);
    const grace = GRACE_MS * timeScale();
    let started = 0;
    return new Promise((resolve) => {
      let plan: CheckPlan[] = [];
      let listed = false;
      const rows: Array<CheckResult | undefined> = [];
      /** the rows so far; a check without one gets `error` (before verify listed its checks, one row for it all) */
      const finish = (error: string) => resolve(listed ? plan.map((c, i) => rows[i] ?? { status: 'error', check: c.name, error }) : [{ status: 'error', check: whole, error }]);
      /**
       * The host keeps each check's own limit. Once the first limit has passed, a host that has
       * been silent for the grace period (it beats while it works) is frozen: a loop that never
       * yields, or a call that blocks. Past the last limit, whatever it does.
       */
      const watch = (call: Call): void => {
        const now = monotonicMs();
        // before verify has listed its checks, building them may take what one check may
        const last = listed ? Math.max(0, ...plan.map((c) => c.limitMs)) : CHECK_TIMEOUT_MS * timeScale();
        if (now - this.#heard < grace && now - started < last + grace) return this.#arm(call, grace, () => watch(call));
        this.#stop(`did not finish within ${seconds(now - started)}: the lesson code stopped answering (a loop that never ends, or a call that blocks?), so workshop stopped it`, call);
      };
      /** its limits count from the host's start (see #call) */
      const begin = (call: Call) => {
        started = monotonicMs();
        this.#heard = started;
        this.#arm(call, grace, () => watch(call));
      };
      const call = this.#call({ op: 'verify', chapter, step, place }, log, begin, {
        on: (r) => {
          if (r.type === 'checks') {
            plan = r.checks;
            listed = true;
            this.#arm(call, Math.min(...plan.map((c) => c.limitMs), CHECK_TIMEOUT_MS * timeScale()), () => watch(call));
          } else if (r.type === 'result') rows[r.index] = checkedResult(r.result, plan[r.index]?.name ?? whole);
          else if (r.type === 'done') finish('the lesson host sent no result for it');
          else if (r.type === 'failed') finish(r.error);
        },
        end: (why) => finish(`${why} (${file})`),
      });
    });
  }

  /** Runs a hook, a solution or a mutant; throws (an Error naming the file) when it fails or does not return. */
  async run(chapter: string, hook: Hook, place: ChapterPlace, log: (line: string) => void, verbose: boolean): Promise<void> {
    await this.#ready(chapter);
    const file = this.#file(chapter);
    return new Promise((resolve, reject) => {
      this.#call({ op: 'run', chapter, hook, place, verbose }, log, HOOK_TIMEOUT_MS * timeScale(), {
        on: (r) => {
          if (r.type === 'done') resolve();
          else if (r.type === 'failed') reject(r.fault === 'lesson' ? new LessonFault(r.error) : new Error(r.error));
        },
        end: (why) => reject(new LessonFault(`${file}: ${why}`)),
      });
    });
  }

  /** Asks a chapter's requirement `index` whether this machine has it. */
  async probe(chapter: string, index: number): Promise<Probe> {
    await this.#ready(chapter);
    const file = this.#file(chapter);
    return new Promise((resolve, reject) => {
      this.#call({ op: 'probe', chapter, index }, () => {}, (CHECK_TIMEOUT_MS + GRACE_MS) * timeScale(), {
        on: (r) => {
          if (r.type === 'probed') resolve(checkedProbe(r.probe));
          else if (r.type === 'failed') reject(new Error(r.error));
        },
        end: (why) => reject(new Error(`${file}: its probe ${why}`)),
      });
    });
  }

  /**
   * lint's questions to a chapter's code (inspect.ts): unknown fields, and what each verify returns.
   * Never throws: a call that fails or does not return in time is a problem at steps.ts.
   */
  async inspect(chapter: string, place: ChapterPlace): Promise<LessonProblem[]> {
    const file = this.#file(chapter);
    try {
      await this.#ready(chapter);
    } catch (err) {
      return [{ file, line: 1, message: err instanceof Error ? err.message : safeString(err) }];
    }
    return new Promise((resolve) => {
      this.#call({ op: 'inspect', chapter, place }, () => {}, (CHECK_TIMEOUT_MS + GRACE_MS) * timeScale(), {
        on: (r) => {
          if (r.type === 'problems') resolve(r.problems);
          else if (r.type === 'failed') resolve([{ file, line: 1, message: `lint could not call its verify functions: ${r.error}` }]);
        },
        end: (why) => resolve([{ file, line: 1, message: `calling its verify functions ${why}` }]),
      });
    });
  }

  /** What a chapter hook that answers with data returns (env, removes, shellVars), checked in the host. */
  async ask(chapter: string, what: Ask, place: ChapterPlace): Promise<Record<string, string> | string[]> {
    await this.#ready(chapter);
    const file = this.#file(chapter);
    return new Promise((resolve, reject) => {
      this.#call({ op: 'ask', chapter, ask: what, place }, () => {}, (CHECK_TIMEOUT_MS + GRACE_MS) * timeScale(), {
        on: (r) => {
          if (r.type === 'answer') resolve(r.value);
          else if (r.type === 'failed') reject(new Error(r.error));
        },
        end: (why) => reject(new Error(`${file}: its ${what} ${why}`)),
      });
    });
  }

  // ---- the child and its calls -----------------------------------------------------------------

  /**
   * Sends a request. Its limit (`limit`: a time limit, or how to arm its own) counts from when the
   * host has started, so that a slow start on a busy machine is not charged to the lesson.
   */
  #call(request: Request, log: (line: string) => void, limit: number | ((call: Call) => void), handlers: Pick<Call, 'on' | 'end'>): Call {
    const id = this.#nextId++;
    const late = (call: Call) => () => this.#stop(`did not finish within ${seconds(Number(limit))}${request.op === 'load' ? ': a top-level await that never settles, or a loop that never ends?' : ''}`, call);
    const call: Call = { request, log, ...handlers, start: typeof limit === 'function' ? limit : (c) => this.#arm(c, limit, late(c)) };
    this.#calls.set(id, call);
    const child = this.#host();
    if (this.#started) call.start(call);
    try {
      child.send({ ...request, id } as HostRequest);
    } catch (err) {
      this.#stop(`could not be sent to the lesson host: ${err instanceof Error ? err.message : safeString(err)}`);
    }
    return call;
  }

  /** (Re)sets the call's timer; it keeps workshop alive until the call ends. */
  #arm(call: Call, ms: number, then: () => void): void {
    clearTimeout(call.timer);
    call.timer = setTimeout(then, ms);
  }

  /** Kills the host and ends every call: `late` with `why`, the others as collateral. */
  #stop(why: string, late?: Call): void {
    const child = this.#child;
    this.#detach();
    child?.kill('SIGKILL');
    this.#endAll((call) => (call === late || late === undefined ? why : 'the lesson host was stopped, as other lesson code in it did not finish in time'));
  }

  #endAll(why: (call: Call) => string): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.end(why(call));
    }
  }

  #detach(): void {
    this.#child?.removeAllListeners();
    this.#child = undefined;
    this.#imported.clear();
    this.#started = false;
    clearTimeout(this.#boot);
  }

  #host(): HostProcess {
    if (this.#child) return this.#child;
    let child = takeLessonHost(!this.#packSeen);
    // a host started early may have ended before its first call (its start-up failed)
    if (child.exitCode !== null || child.signalCode !== null || !child.connected) child = spawnLessonHost();
    this.#child = child;
    child.on('message', (m: unknown) => this.#onMessage(m));
    child.on('error', (err) => {
      if (this.#child !== child) return;
      this.#detach();
      this.#endAll(() => `could not run: the lesson host failed (${err.message})`);
    });
    child.on('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#detach();
      this.#endAll(() => `ended the lesson host before it returned (${signal ? `killed by ${signal}` : `exit code ${String(code)}`})`);
    });
    // main.ts may have changed the environment since the host started (FORCE_COLOR for zx). The
    // host answers `ready`: it has started, and the calls' limits begin.
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) vars[k] = v;
    child.send({ op: 'env', id: 0, vars } satisfies HostRequest);
    const boot = BOOT_TIMEOUT_MS * timeScale();
    this.#boot = setTimeout(() => this.#stop(`could not run: the lesson host did not start within ${seconds(boot)}`), boot);
    return child;
  }

  #onStarted(): void {
    clearTimeout(this.#boot);
    this.#started = true;
    for (const call of this.#calls.values()) call.start(call);
  }

  #onMessage(m: unknown): void {
    this.#heard = monotonicMs();
    if (!isRecord(m) || m['type'] === 'beat') return;
    if (m['type'] === 'ready') return this.#onStarted();
    if (m['type'] === 'output' && typeof m['text'] === 'string') return toStderr(m['text']);
    const id = m['id'];
    const call = typeof id === 'number' ? this.#calls.get(id) : undefined;
    if (!call || typeof id !== 'number') return;
    const reply = m as HostReply;
    if (reply.type === 'log') return call.log(safeString(reply.line));
    if (reply.type !== 'checks' && reply.type !== 'result') {
      // its last word: the call is over
      clearTimeout(call.timer);
      this.#calls.delete(id);
    }
    call.on(reply);
  }

  /**
   * workshop is exiting: the host goes too. Killed, not asked: lesson code may still run there
   * after its call returned (a timer of a check that timed out, a callback that never yields),
   * and nothing of it may outlive workshop. The host wrote its compile cache after each import.
   */
  kill(): void {
    const child = this.#child;
    this.#detach();
    child?.kill('SIGKILL');
  }
}

let host: LessonHost | undefined;

/** The one lesson host of this process, started on first use (or by bin.ts, for `next`). */
export function lessonHost(): LessonHost {
  if (!host) {
    const h = new LessonHost();
    host = h;
    // The host must not outlive workshop, even if lesson code keeps it busy.
    process.once('exit', () => h.kill());
  }
  return host;
}
