// The learner's use cases: `next`, `check`, `solve` and watch's verify. Each goes down once, from
// the command to here, and comes back with an outcome (the check rows, what was recorded, where
// the learner is now, which earlier steps broke); the commands in src/cli only render it.
// Progress changes only through the Journey's methods.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { allPassed, type CheckResult } from '../checks/check.ts';
import { stepIds, type ChapterEntry } from '../lessons/catalog.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import type { StepView } from '../render/step.ts';
import type { ChapterPlace } from './context.ts';
import type { Journey, Passed, Position } from './journey.ts';
import { requiredQuestionRows } from './answer-record.ts';
import { activeDrill, type ActiveDrill, type CheckOutcome } from './drill-record.ts';
import { addressOf } from './position.ts';
import { isDone } from './progress.ts';
import { describeBroken, describeNotDone, earlierStepsBroken, earlierStepsNotDone, wrongFolder, type NoLongerHolds, type NotDone } from './recheck.ts';
import { describeFailure, shellVarsLine, solveStep, verifyStep } from './runner.ts';

export type { StepView } from '../render/step.ts';

/** What `show` and the step after a pass render: the step, and where its chapter lives. */
export const stepView = (j: Journey, pos: Position): StepView => ({ chapter: pos.chapter, index: pos.index, nonce: j.place(pos.chapter.id)?.nonce, dir: j.ws.chapterDir(pos.chapter.id) });

/** A step's checks, run once, on its started chapter. */
export interface Verified {
  pos: Position;
  address: string;
  results: CheckResult[];
  passed: boolean;
  /** the chapter folder */
  dir: string;
}

/** Starts the step's chapter if needed (its setup prints through `log`), then runs its checks. */
async function verifyAt(j: Journey, pos: Position, log: (l: string) => void): Promise<{ v: Verified; loaded: LoadedChapter; place: ChapterPlace }> {
  const { loaded, place } = await j.start(pos.chapter);
  // a question the step marks `required` is one more row of its table (docs/questions.md)
  const results = [...(await verifyStep(loaded, pos.step, place, log)), ...requiredQuestionRows(pos.chapter.text.steps[pos.index]?.body ?? '', pos.chapter.id, j.ws.home)];
  return { v: { pos, address: addressOf(pos), results, passed: allPassed(results), dir: place.dir }, loaded, place };
}

const doneIn = (j: Journey, pos: Position) => (step: string) => isDone(j.state, pos.chapter.id, step);

export type NextOutcome =
  /** a drill is on (issue 28): `next` checks the drill's step, not the chapter's; progress is not touched */
  | { in: 'drill'; drill: ActiveDrill; check: CheckOutcome }
  /** the instructor holds the class at the current step (issue 22): it is checked as `check` would, by the caller */
  | { in: 'hold'; step: string }
  | (Verified & {
      in: 'step';
      passed: false;
      attempts: number;
      hintsShown: number;
      /** earlier steps that were done and no longer hold: they explain most mysterious failures */
      broken: NoLongerHolds[];
      /** earlier steps skipped with goto that this one builds on */
      notDone: NotDone[];
      /** what to tell the learner about them, and about a shell outside the chapter folder the rows name */
      notes: string[];
      /** the chapter draws its state (`workshop state`) */
      drawable: boolean;
    })
  | (Verified & {
      in: 'step';
      passed: true;
      moved: Passed;
      /** the step the learner is on now, with its chapter started (undefined after the last step) */
      now: StepView | undefined;
    });

/**
 * `workshop next`: verify the current step. A failure counts an attempt and re-checks the earlier
 * steps; a pass records it and moves the learner on. The next chapter's set-up prints its
 * commands, so it starts only after `announce` has shown the pass.
 */
export interface NextOptions {
  log: (l: string) => void;
  announce: (passed: Verified & { moved: Passed }) => Promise<void>;
  /** the step the instructor holds the class at, if any */
  hold: string | null;
  /** drill.ts's checkDrill, given by the caller: loaded only during a drill (and drill.ts depends on this file through restore.ts) */
  checkDrill: (d: ActiveDrill) => Promise<CheckOutcome>;
}

export async function nextStep(j: Journey, opts: NextOptions): Promise<NextOutcome> {
  const drill = activeDrill(j.ws.home);
  if (drill) return { in: 'drill', drill, check: await opts.checkDrill(drill) };
  const pos = j.current();
  if (opts.hold !== null && addressOf(pos) === opts.hold) return { in: 'hold', step: opts.hold };
  const { v, loaded, place } = await verifyAt(j, pos, opts.log);
  if (!v.passed) {
    const sp = await j.recordAttempt(pos, v.results);
    const broken = await earlierStepsBroken(loaded, place, pos, doneIn(j, pos));
    const notDone = await earlierStepsNotDone(loaded, place, pos, doneIn(j, pos));
    const catchUp = describeNotDone(pos.chapter.id, notDone);
    const folder = wrongFolder(process.cwd(), homedir(), place.dir, v.results, existsSync);
    const notes = [...broken.map(describeBroken), ...(catchUp ? [catchUp] : []), ...(folder ? [folder] : [])];
    return { ...v, in: 'step', passed: false, attempts: sp.attempts, hintsShown: sp.hintsShown, broken, notDone, notes, drawable: loaded.def.state !== undefined };
  }
  const moved = await j.pass(pos, 'learner', v.results, { deferStart: true });
  await opts.announce({ ...v, moved });
  if (moved.to) await j.start(moved.to.chapter);
  return { ...v, in: 'step', passed: true, moved, now: moved.to ? stepView(j, moved.to) : undefined };
}

/** `workshop check [step]`: verify without advancing; reported (to a class), not counted. */
export async function checkStep(j: Journey, address: string | undefined, log: (l: string) => void): Promise<Verified> {
  const pos = address ? j.find(address) : j.current();
  const { v } = await verifyAt(j, pos, log);
  j.recordCheck(pos, v.results, 'check');
  return v;
}

/**
 * `workshop watch`: the current step as state.json has it now (`next` in another pane may have
 * moved the learner on), verified. `report` says whether the table changed since the last one,
 * which is worth reporting; the same table again is not.
 */
export async function watchStep(j: Journey, log: (l: string) => void, report: (v: Verified) => boolean): Promise<Verified> {
  j.refresh();
  const { v } = await verifyAt(j, j.current(), log);
  if (report(v)) j.recordCheck(v.pos, v.results, 'watch');
  return v;
}

/** `watch --advance`: the step passed; the learner moves on as with `next` (its next chapter starts). */
export const advance = (j: Journey, pos: Position): Promise<Passed> => j.pass(pos, 'learner');

/** One step's reference solution and then its checks, as the learner's `solve` and a restore run them. */
export type SolveOutcome = { address: string; status: 'solved'; results: CheckResult[]; passed: boolean } | { address: string; status: 'error'; error: string; results: CheckResult[] };

export type SolveEvent = { type: 'solving'; pos: Position } | { type: 'solved'; pos: Position; outcome: SolveOutcome } | { type: 'passed'; pos: Position; moved: Passed };

/**
 * The one solve loop, of `solve` and of `goto --restore` (restore.ts): each step's solution, its
 * checks, recorded (`solved` events to a class), then passed as `solve` passes a step. It stops at
 * the first step whose solution fails or whose checks still fail. A pass that moves the learner to
 * another chapter starts it after the `passed` event (its set-up prints after the closing).
 */
export async function replaySolutions(j: Journey, steps: readonly Position[], opts: { log: (l: string) => void; verbose: boolean; on: (e: SolveEvent) => void | Promise<void> }): Promise<{ outcomes: SolveOutcome[]; failed: SolveOutcome | undefined }> {
  const outcomes: SolveOutcome[] = [];
  for (const pos of steps) {
    const { loaded, place } = await j.start(pos.chapter);
    const address = addressOf(pos);
    await opts.on({ type: 'solving', pos });
    const outcome = await solveThenVerify(loaded, pos.step, place, address, opts);
    outcomes.push(outcome);
    j.recordSolve(pos, outcome.status === 'error' ? [{ status: 'error', check: `the solution of ${address}`, error: outcome.error }] : outcome.results);
    await opts.on({ type: 'solved', pos, outcome });
    if (outcome.status === 'error' || !outcome.passed) return { outcomes, failed: outcome };
    const moved = await j.pass(pos, 'solve', undefined, { deferStart: true });
    await opts.on({ type: 'passed', pos, moved });
    if (moved.advanced && moved.to) await j.start(moved.to.chapter);
  }
  return { outcomes, failed: undefined };
}

/** A step's solution, then its checks; a solution that throws is an outcome, not a crash. */
export async function solveThenVerify(loaded: LoadedChapter, step: string, place: ChapterPlace, address: string, opts: { log: (l: string) => void; verbose: boolean }): Promise<SolveOutcome> {
  try {
    await solveStep(loaded, step, place, opts.log, opts.verbose);
  } catch (err) {
    return { address, status: 'error', error: describeFailure(err), results: [] };
  }
  const results = await verifyStep(loaded, step, place);
  return { address, status: 'solved', results, passed: allPassed(results) };
}

export interface SolveStepsOutcome {
  outcomes: SolveOutcome[];
  failed: SolveOutcome | undefined;
  /** where the learner is now, when a pass moved them (null after the last step) */
  next: string | null;
  /** the line that gives the learner's shell the text's variables, as the solutions left them */
  paste: string | undefined;
}

/**
 * `workshop solve [step] [--through]`: the step's solution (with `through`, first every earlier
 * step of the chapter that is not done, or done but no longer holding: `workshop clean` keeps the
 * progress and removes what the steps built), each verified and passed.
 */
export async function solveSteps(j: Journey, address: string | undefined, opts: { through: boolean; log: (l: string) => void; on: (e: SolveEvent) => void | Promise<void> }): Promise<SolveStepsOutcome> {
  const target = address ? j.find(address) : j.current();
  const { loaded, place } = await j.start(target.chapter);
  const ids = stepIds(target.chapter);
  const at = (step: string): Position => ({ chapter: target.chapter, step, index: ids.indexOf(step) });
  const done = doneIn(j, target);
  const broken = opts.through ? new Set((await earlierStepsBroken(loaded, place, target, done)).map((b) => b.step)) : new Set<string>();
  const todo = (opts.through ? ids.slice(0, target.index + 1) : [target.step]).map(at).filter((p) => p.step === target.step || !done(p.step) || broken.has(p.step));
  let next: string | null = null;
  const r = await replaySolutions(j, todo, {
    log: opts.log,
    verbose: true,
    on: async (e) => {
      if (e.type === 'passed' && e.moved.advanced) next = e.moved.to ? addressOf(e.moved.to) : null;
      await opts.on(e);
    },
  });
  if (r.failed) return { ...r, next, paste: undefined };
  return { ...r, next, paste: await shellVars(j, target.chapter) };
}

/** The text's shell variables as the state has them now (overlayfs's `$nonce`); undefined before the chapter starts or when it has none. */
export async function shellVars(j: Journey, entry: ChapterEntry): Promise<string | undefined> {
  const place = j.place(entry.id);
  return place ? shellVarsLine(await j.load(entry), place) : undefined;
}
