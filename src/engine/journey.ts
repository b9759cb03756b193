// The Journey: the one owner of the learner's progress, in the style of rustlings' AppState.
// Every change is one method that takes the lock, re-reads state.json, changes it and writes it
// back, so two commands at once (watch --advance in one pane, next and hint in another) never
// lose each other's progress. Commands read through it and never touch the state object.
// Each change emits a typed event; the classroom reporter is one subscriber.
import { existsSync } from 'node:fs';
import type { CheckResult } from '../checks/check.ts';
import { formatProblem, readCatalog, stepIds, type Catalog, type ChapterEntry } from '../lessons/catalog.ts';
import { loadChapter, type LoadedChapter } from '../lessons/load.ts';
import { unmet } from '../lessons/requires.ts';
import { didYouMean, envError, LessonFault, lessonError, usageError, WorkshopError } from '../errors.ts';
import type { ChapterPlace } from './context.ts';
import { outcomeOf, type JourneyEvent, type JourneyListener } from './events.ts';
import { requireVm } from './guard.ts';
import { holdsLock, withLock } from '../sys/lock.ts';
import { emptyState, isDone, newNonce, readState, saveHintCounts, saveState, type State, type StepProgress } from './progress.ts';
import { describeFailure, setupChapter } from './runner.ts';
import { workspace, type Workspace } from './workspace.ts';
import { addressOf, currentPosition, nextToDo, type Position } from './position.ts';

export { addressOf, currentPosition, type Position } from './position.ts';

export interface Started {
  loaded: LoadedChapter;
  place: ChapterPlace;
}

export interface Passed {
  /** where the learner is now (null after the last step) */
  to: Position | null;
  /** chapters passed over on the way, with the reason */
  skipped: Array<{ chapter: string; reason: string }>;
  /** the closing section of the chapter just finished */
  closing: { title: string; body: string } | undefined;
  /** false when another command had already moved the learner on */
  advanced: boolean;
  /** the step's attempts, counting the one that passed when `next` gave it */
  attempts: number;
}

export interface JourneyOptions {
  home: string;
  lessonsDir: string;
  /** where this progress lives under HOME/progress/ (Selection.progress in engine/packs.ts); undefined for the built-in lessons */
  pack?: string | undefined;
  allowHost: boolean;
  /** the verb, written into the lock so a waiting command can say whom it waits for */
  command: string;
  /** learner-facing lines (warnings, setup commands, "waiting for …") */
  log: (line: string) => void;
  /** print the commands a chapter's setup runs */
  verbose: boolean;
  /** a file that keeps the parsed chapter.md files between runs (lessons/catalog.ts); not in the home, which reading never writes */
  catalogCache?: string;
}

export class Journey {
  readonly cat: Catalog;
  readonly ws: Workspace;
  readonly #opts: JourneyOptions;
  #state: State;
  readonly #listeners: JourneyListener[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #loaded = new Map<string, Promise<LoadedChapter>>();
  readonly #warned = new Set<string>();

  private constructor(opts: JourneyOptions, cat: Catalog, state: State) {
    this.#opts = opts;
    this.cat = cat;
    this.ws = workspace(opts.home, opts.pack);
    this.#state = state;
  }

  /** Reads the lesson index and the progress, read-only: nothing is written until a change. */
  static open(opts: JourneyOptions): Journey {
    const cat = readCatalog(opts.lessonsDir, opts.catalogCache === undefined ? {} : { cache: opts.catalogCache });
    if (cat.chapters.length === 0) throw lessonError(`no lessons in ${opts.lessonsDir}:\n  ${cat.problems.map(formatProblem).join('\n  ')}`, 'check --lessons, or run `workshop lint DIR`');
    const j = new Journey(opts, cat, emptyState());
    const { state, warnings } = readState(j.ws.statePath, false);
    j.#state = state;
    j.#warn(warnings);
    return j;
  }

  /** Reads state.json again (read-only), for a long-running command such as `watch` while others change it. */
  refresh(): void {
    const { state, warnings } = readState(this.ws.statePath, false);
    this.#state = state;
    this.#warn(warnings);
  }

  /** The progress as last read or written. */
  get state(): Readonly<State> {
    return this.#state;
  }

  current(): Position {
    return currentPosition(this.cat.chapters, this.#state);
  }

  isDone(pos: Position): boolean {
    return isDone(this.#state, pos.chapter.id, pos.step);
  }

  progressOf(pos: Position): StepProgress {
    return this.#state.chapters[pos.chapter.id]?.steps[pos.step] ?? { attempts: 0, hintsShown: 0 };
  }

  chapter(id: string): ChapterEntry {
    const c = this.cat.chapters.find((x) => x.id === id);
    if (c) return c;
    const ids = this.cat.chapters.map((x) => x.id);
    const guess = didYouMean(id, ids);
    throw usageError(`unknown chapter "${clip(id)}"`, `${guess ? `did you mean "${guess}"? ` : ''}chapters: ${ids.join(', ')}`);
  }

  /** Resolves `chapter/step`, `chapter` (its first step) or a bare step id of the current chapter. */
  find(address: string): Position {
    const parts = address.split('/');
    if (parts.length > 2) throw usageError(`"${clip(address)}" is not a step: use chapter or chapter/step`, 'workshop list shows the ids');
    const [cid = '', sid] = parts;
    let chapter = this.cat.chapters.find((c) => c.id === cid);
    let step = sid;
    if (!chapter && sid === undefined) {
      const cur = this.current().chapter;
      if (stepIds(cur).includes(address)) {
        chapter = cur;
        step = address;
      }
    }
    if (!chapter) chapter = this.chapter(cid);
    const ids = stepIds(chapter);
    const id = step ?? ids[0];
    const index = id === undefined ? -1 : ids.indexOf(id);
    if (id === undefined || index < 0) {
      const guess = didYouMean(step ?? '', ids);
      throw usageError(`unknown step "${chapter.id}/${clip(step ?? '')}"`, `${guess ? `did you mean "${chapter.id}/${guess}"? ` : ''}steps of ${chapter.id}: ${ids.join(', ')}`);
    }
    return { chapter, step: id, index };
  }

  /** Imports a chapter's steps.ts once per process. */
  load(entry: ChapterEntry): Promise<LoadedChapter> {
    let p = this.#loaded.get(entry.id);
    if (!p) {
      p = loadChapter(entry).then((ch) => {
        if (!ch) throw lessonError(`cannot load ${entry.id}`);
        return ch;
      });
      this.#loaded.set(entry.id, p);
    }
    return p;
  }

  /** Why a chapter cannot run on this machine, or undefined when it can. */
  async skipReason(entry: ChapterEntry): Promise<string | undefined> {
    const reasons = await unmet((await this.load(entry)).def.requires ?? []);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  /** Where a started chapter lives; undefined before it starts. */
  place(chapter: string): ChapterPlace | undefined {
    const p = this.#state.chapters[chapter];
    return p ? { chapter, dir: this.ws.chapterDir(chapter), home: this.ws.home, nonce: p.nonce, startedAt: p.startedAt } : undefined;
  }

  // ---- events ------------------------------------------------------------------------------

  on(listener: JourneyListener): void {
    this.#listeners.push(listener);
  }

  /** Waits for what listeners started (the reporter's outbox append); main calls it before exiting. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** A judged answer (engine/answer.ts keeps its own record, answers.json): told to the class like any event. */
  answered(step: string, question: string, result: 'right' | 'wrong', tries: number): void {
    this.#emit({ type: 'answered', at: now(), step, question, result, tries });
  }

  /** A drill started or ended (engine/drill.ts keeps its own record, drills.json): told to the class. */
  drilled(e: Omit<Extract<JourneyEvent, { type: 'drilled' }>, 'type' | 'at'>): void {
    this.#emit({ type: 'drilled', at: now(), ...e });
  }

  #emit(event: JourneyEvent): void {
    for (const l of this.#listeners) {
      const p = Promise.resolve()
        .then(() => l(event))
        .catch((err: unknown) => this.#opts.log(`(could not report to the class: ${err instanceof Error ? err.message : String(err)})`));
      this.#pending.add(p);
      void p.finally(() => this.#pending.delete(p));
    }
  }

  // ---- changes: each one under the lock, on a fresh read ------------------------------------

  #warn(lines: readonly string[]): void {
    for (const l of lines) {
      if (this.#warned.has(l)) continue;
      this.#warned.add(l);
      this.#opts.log(`warning: ${l}`);
    }
  }

  /** `hint counts`: `fn` changes only those, which go to hints-shown.json without fsync (progress.ts). */
  async #change<T>(fn: (state: State) => T | Promise<T>, what: 'progress' | 'hint counts' = 'progress'): Promise<T> {
    return withLock(
      this.ws.lockPath,
      this.#opts.command,
      async () => {
        const { state, warnings } = readState(this.ws.statePath, true);
        this.#warn(warnings);
        const out = await fn(state);
        // a salvaged state.json (its backup is made) is written back now, as any progress
        if (what === 'progress' || warnings.length > 0) saveState(this.ws.statePath, state);
        if (what === 'hint counts') saveHintCounts(this.ws.statePath, state);
        this.#state = state;
        return out;
      },
      { onWait: (o) => this.#opts.log(`waiting for workshop ${o.command} (pid ${o.pid})…`) },
    );
  }

  /**
   * Starts a chapter if it has not started: its nonce, its start time, its folder and its setup
   * (which needs the VM guard). A setup that fails leaves the chapter unstarted. A started chapter
   * whose folder is gone (after `workshop clean`, or an `rm -rf`) is set up again, with its nonce
   * and its progress kept: the learner carries on where they were.
   */
  async start(entry: ChapterEntry): Promise<Started> {
    const loaded = await this.load(entry);
    const known = this.place(entry.id);
    if (known && existsSync(known.dir)) return { loaded, place: known };
    let created = false;
    await this.#change(async (state) => {
      const was = state.chapters[entry.id];
      const dir = this.ws.chapterDir(entry.id);
      if (was && existsSync(dir)) return;
      const progress = was ?? { nonce: newNonce(), startedAt: Date.now(), steps: {} };
      const place = { chapter: entry.id, dir, home: this.ws.home, nonce: progress.nonce, startedAt: progress.startedAt };
      if (loaded.def.setup) await requireVm(this.#opts.allowHost, `set up chapter ${entry.id}`);
      try {
        await setupChapter(loaded, place, this.#opts.log, this.#opts.verbose);
      } catch (err) {
        const why = `the setup of chapter ${entry.id} failed: ${describeFailure(err)}`;
        // lesson code that exited or froze is the pack's fault, whatever the machine has
        if (err instanceof LessonFault) throw lessonError(why, `fix the setup in ${entry.stepsPath}; \`workshop lint\` checks a pack`);
        throw envError(why, 'run `workshop doctor` to see what this machine is missing');
      }
      state.chapters[entry.id] = progress;
      created = was === undefined;
    });
    const place = this.place(entry.id);
    if (!place) throw new Error(`chapter ${entry.id} did not start`);
    if (created) this.#emit({ type: 'started', at: now(), chapter: entry.id });
    return { loaded, place };
  }

  /**
   * The learner arrives at a chapter without changing anything yet (`show`, `path`): its start is
   * recorded now, so that files made from here on count as made during the chapter. Quietly does
   * nothing where it cannot (not root, outside a VM with a setup to run, a setup that fails).
   */
  async arrive(entry: ChapterEntry): Promise<void> {
    const known = this.place(entry.id);
    if ((known && existsSync(known.dir)) || process.getuid?.() !== 0) return;
    try {
      await this.start(entry);
    } catch (err) {
      if (!(err instanceof WorkshopError)) throw err;
    }
  }

  /** Makes `pos` the current step and starts its chapter. The position is saved before the setup runs. */
  async goto(pos: Position): Promise<Started> {
    await this.#change((state) => {
      state.current = { chapter: pos.chapter.id, step: pos.step };
    });
    return this.start(pos.chapter);
  }

  /** `next` verified the step: one more attempt, reported with the check rows. */
  async recordAttempt(pos: Position, results: readonly CheckResult[]): Promise<StepProgress> {
    await this.start(pos.chapter);
    const sp = await this.#change((state) => {
      const sp = stepIn(state, pos);
      sp.attempts++;
      return { ...sp };
    });
    this.#emit({ type: 'attempted', at: now(), step: addressOf(pos), command: 'next', status: outcomeOf(results), results, attempts: sp.attempts, hintsShown: sp.hintsShown });
    return sp;
  }

  /** `check` or `watch` verified the step: reported, not counted. */
  recordCheck(pos: Position, results: readonly CheckResult[], command: 'check' | 'watch'): void {
    const sp = this.progressOf(pos);
    this.#emit({ type: 'attempted', at: now(), step: addressOf(pos), command, status: outcomeOf(results), results, attempts: sp.attempts, hintsShown: sp.hintsShown });
  }

  /**
   * The step passed. It is marked done; if the learner is still on it, they move to the first step
   * after it that is not done yet (past chapters this machine cannot run, and past a chapter done
   * before; from the start again for a step skipped with goto), and its chapter starts. Every step
   * done: they stay, and `to` is null. If another command moved them on already, they stay where
   * they are. Advancing is written here and only here.
   *
   * `next` gives the passing `attempt`: it is counted in the same write (one lock and one fsync'd
   * save per `next`, not two) and reported before the pass. With `deferStart` the next chapter is
   * not started here: the caller prints the pass first, then starts it (its setup prints too).
   */
  async pass(pos: Position, by: 'learner' | 'solve', attempt?: readonly CheckResult[], opts: { deferStart?: boolean } = {}): Promise<Passed> {
    if (attempt) await this.start(pos.chapter);
    const skipped: Array<{ chapter: string; reason: string }> = [];
    const known = new Map<string, string>();
    const done = (chapter: string, step: string) => isDone(this.#state, chapter, step);
    let to: Position | undefined;
    for (;;) {
      to = nextToDo(this.cat.chapters, pos, done, known);
      if (!to || to.chapter === pos.chapter) break;
      const reason = await this.skipReason(to.chapter);
      if (reason === undefined) break;
      known.set(to.chapter.id, reason);
      skipped.push({ chapter: to.chapter.id, reason });
    }
    const target = to;
    const { advanced, sp } = await this.#change((state) => {
      // where the learner is, before this pass (with no current step, that is the first one not done)
      const here = currentPosition(this.cat.chapters, state);
      const sp = stepIn(state, pos);
      if (attempt) sp.attempts++;
      sp.done ??= { at: now(), by };
      const onIt = here.chapter === pos.chapter && here.step === pos.step;
      if (onIt && target) state.current = { chapter: target.chapter.id, step: target.step };
      return { advanced: onIt, sp: { ...sp } };
    });
    const at = advanced ? (target ?? null) : this.current();
    if (attempt) this.#emit({ type: 'attempted', at: now(), step: addressOf(pos), command: 'next', status: outcomeOf(attempt), results: attempt, attempts: sp.attempts, hintsShown: sp.hintsShown });
    this.#emit({ type: 'passed', at: now(), step: addressOf(pos), by, attempts: sp.attempts, hintsShown: sp.hintsShown, next: at ? addressOf(at) : null });
    if (advanced && target && target.chapter !== pos.chapter && opts.deferStart !== true) await this.start(target.chapter);
    return {
      to: at,
      skipped: advanced ? skipped : [],
      closing: advanced && target?.chapter !== pos.chapter ? pos.chapter.text.closing : undefined,
      advanced,
      attempts: sp.attempts,
    };
  }

  /** `solve` ran a step's reference solution and verified it. */
  recordSolve(pos: Position, results: readonly CheckResult[]): void {
    const sp = this.progressOf(pos);
    this.#emit({ type: 'solved', at: now(), step: addressOf(pos), status: outcomeOf(results), results, attempts: sp.attempts, hintsShown: sp.hintsShown });
  }

  /**
   * One more hint of the step is shown (up to `total`). A learner without root can still read the
   * hints; the count is then not kept (`saved` false).
   */
  async showHint(pos: Position, total: number): Promise<{ shown: number; exhausted: boolean; saved: boolean }> {
    const before = this.progressOf(pos).hintsShown;
    if (process.getuid?.() !== 0) {
      const shown = Math.min(before + 1, total);
      return { shown, exhausted: before >= total, saved: false };
    }
    // A started chapter needs no steps.ts: `workshop hint` reads its hints from a cache (issue 14).
    if (!this.place(pos.chapter.id)) await this.start(pos.chapter);
    // Under the lock, so that concurrent hints add up, but without fsync: a count lost in a power
    // cut costs a hint shown again, and state.json, the progress, is not written (progress.ts).
    const r = await this.#change((state) => {
      const sp = stepIn(state, pos);
      const exhausted = sp.hintsShown >= total;
      sp.hintsShown = Math.min(sp.hintsShown + 1, total);
      return { shown: sp.hintsShown, exhausted };
    }, 'hint counts');
    this.#emit({ type: 'hinted', at: now(), step: addressOf(pos), hintsShown: r.shown, total });
    return { ...r, saved: true };
  }

  /** The chapter's progress is forgotten and it starts again at its first step, with a fresh nonce (its cleanup is the caller's). */
  async resetChapter(entry: ChapterEntry): Promise<Position | undefined> {
    const first = stepIds(entry)[0];
    await this.#change((state) => {
      delete state.chapters[entry.id];
      if (first !== undefined) state.current = { chapter: entry.id, step: first };
    });
    this.#emit({ type: 'reset', at: now(), chapter: entry.id });
    if (first === undefined) return undefined;
    await this.start(entry);
    return { chapter: entry, step: first, index: 0 };
  }

  /** Every chapter's progress is forgotten (`workshop reset --all`; their cleanup is the caller's), and the learner starts again at the first step. */
  async forgetAll(): Promise<void> {
    const ids = await this.#change((state) => {
      const had = Object.keys(state.chapters);
      state.chapters = {};
      state.current = null;
      return had;
    });
    for (const id of ids) this.#emit({ type: 'reset', at: now(), chapter: id });
  }

  /** Whether this process holds the lock now (for tests and assertions). */
  get locked(): boolean {
    return holdsLock(this.ws.lockPath);
  }
}

function stepIn(state: State, pos: Position): StepProgress {
  const c = state.chapters[pos.chapter.id];
  if (!c) throw new Error(`chapter ${pos.chapter.id} has not started`);
  let s = c.steps[pos.step];
  if (!s) {
    s = { attempts: 0, hintsShown: 0 };
    c.steps[pos.step] = s;
  }
  return s;
}

const now = (): string => new Date().toISOString();

/** A learner's argument echoed in an error is cut short: a 100 KB argument is not printed back. */
export const clip = (s: string, max = 60): string => (s.length > max ? `${s.slice(0, max)}…` : s);
