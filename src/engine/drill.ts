// Drills (issue 28): a step's proven near-miss, met on purpose. The chapter is rebuilt to the
// solved state of the step (its cleanup, its setup, the reference solutions up to and including
// the step, as `goto --restore` and the self-test's restore do), then one of the step's mutants
// is applied, unnamed. `next` passes the drill when the step's checks all pass again. Nothing here
// touches the chapter's progress: a drill's time, attempts and hints go to drills.json.
//
// Only what `workshop test` proves becomes a drill: a mutant that declares a diagnosis (proven to
// be named by its failing rows), that `workshop solve` alone repairs (proven by the recover
// phase), and that has no revert of its own (which a learner would not have). The self-test
// reports the same rule's list as `mutants.drills`, and a test holds the two equal.
import { fillHints } from './hints.ts';
import { allPassed, type CheckResult } from '../checks/check.ts';
import type { MutantData } from '../lessons/host-protocol.ts';
import type { ChapterEntry } from '../lessons/catalog.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { envError, usageError } from '../errors.ts';
import type { ChapterPlace } from './context.ts';
import { changeBook, finished, readBook, type ActiveDrill, type CheckOutcome, type DrillChoice, type DrillId, type DrillResult, type RoundState } from './drill-record.ts';
import type { Journey } from './journey.ts';
import { whatCleanupRemoves } from './restore.ts';
import { cleanupChapter, describeFailure, failureText, mutate, setupChapter, solveStep, verifyStep } from './runner.ts';

export type { ActiveDrill, CheckOutcome, DrillChoice, DrillId, DrillResult, RoundState } from './drill-record.ts';

/** Pure: why a mutant is never offered as a drill, or undefined when it is one. */
export function leftOutBecause(m: MutantData): string | undefined {
  if (m.diagnosis === undefined) return 'it declares no diagnosis: no failure is proven to name it';
  if (m.recovery === 'restore') return 'workshop solve cannot repair it (its way out is goto --restore)';
  if (m.revert) return 'it has a revert of its own, which a learner does not have';
  return undefined;
}

export interface Catalogue {
  drills: DrillId[];
  leftOut: Array<DrillId & { why: string }>;
}

/** Pure: the drills of a chapter, step by step in order, and the mutants left out with why. */
export function catalogue(chapter: string, steps: Readonly<Record<string, { mutants: Readonly<Record<string, MutantData>> }>>): Catalogue {
  const out: Catalogue = { drills: [], leftOut: [] };
  for (const [step, def] of Object.entries(steps)) {
    for (const [mutant, m] of Object.entries(def.mutants)) {
      const why = leftOutBecause(m);
      if (why === undefined) out.drills.push({ chapter, step, mutant });
      else out.leftOut.push({ chapter, step, mutant, why });
    }
  }
  return out;
}

/** A small seeded generator (mulberry32): the same seed picks the same drill on every machine. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pure: `count` drills in a seeded order (all of them when there are fewer). */
export function pick(drills: readonly DrillId[], seed: number, count = 1): DrillId[] {
  const rnd = seeded(seed);
  const pool = [...drills];
  for (let i = pool.length - 1; i > 0; i--) {
    const k = Math.floor(rnd() * (i + 1));
    [pool[i], pool[k]] = [pool[k] as DrillId, pool[i] as DrillId];
  }
  return pool.slice(0, count);
}

/** A round has 3 to 5 drills: 5 where the chapter has them, all of them where it has fewer than 3. */
export const roundSize = (available: number): number => Math.min(5, available);

export const newSeed = (): number => Math.floor(Math.random() * 1_000_000);

/**
 * Pure: the row of the failure where the diagnosis's match begins (the row that names the
 * mistake), else the first failing row.
 */
export function namingRow(results: readonly CheckResult[], diagnosis: RegExp): CheckResult | undefined {
  const failing = results.filter((r) => r.status !== 'pass');
  const m = new RegExp(diagnosis.source, diagnosis.flags.replace('g', '')).exec(failureText(failing));
  let offset = 0;
  for (const r of failing) {
    const len = failureText([r]).length + 1;
    if (m !== null && m.index < offset + len) return r;
    offset += len;
  }
  return failing[0];
}

/** Pure: the three progressive hints of a drill, from the row its diagnosis names: the area, the check, the fix. */
export function drillHints(stepTitle: string, stepHints: readonly string[], row: CheckResult | undefined): string[] {
  const area = `Area: what the step "${stepTitle}" built.${stepHints[0] === undefined ? '' : ` ${stepHints[0]}`}`;
  if (row === undefined) return [area];
  const fail = row.status === 'fail' ? row : undefined;
  const check = fail ? `Check: "${row.check}" fails. It expected ${fail.expected}, and found ${fail.actual}.` : `Check: "${row.check}" cannot even be read${row.status === 'error' ? `: ${row.error}` : ''}.`;
  const last = stepHints[stepHints.length - 1];
  const fix = [fail?.hint, last].filter((t): t is string => t !== undefined);
  return [area, check, `Fix: ${fix.length > 0 ? fix.join(' ') : 'run what the step says again, from the start.'}`];
}

export interface ChapterDrills {
  chapter: string;
  title: string;
  drills: DrillId[];
  leftOut: Catalogue['leftOut'];
  /** why the chapter cannot run here (its requirements); its drills are not offered then */
  unavailable?: string;
}

export async function listDrills(j: Journey): Promise<ChapterDrills[]> {
  const out: ChapterDrills[] = [];
  for (const entry of j.cat.chapters) {
    const loaded = await j.load(entry);
    const c = catalogue(entry.id, loaded.def.steps);
    const why = await j.skipReason(entry);
    out.push({ chapter: entry.id, title: entry.text.title, ...c, ...(why === undefined ? {} : { unavailable: why }) });
  }
  return out;
}

/** `chapter` or `chapter/step` (the current chapter when absent) → the drills to choose from. */
async function candidates(j: Journey, target: string | undefined): Promise<{ entry: ChapterEntry; drills: DrillId[] }> {
  const [chapterId, step] = (target ?? j.current().chapter.id).split('/', 2);
  const entry = j.chapter(chapterId ?? '');
  const why = await j.skipReason(entry);
  if (why !== undefined) throw envError(`chapter ${entry.id} cannot run on this machine: ${why}`, 'workshop drill --list shows the chapters with drills');
  const all = catalogue(entry.id, (await j.load(entry)).def.steps).drills;
  if (step !== undefined && !entry.text.steps.some((s) => s.id === step)) throw usageError(`chapter ${entry.id} has no step ${step}`, `its steps: ${entry.text.steps.map((s) => s.id).join(', ')}`);
  const drills = step === undefined ? all : all.filter((d) => d.step === step);
  if (drills.length === 0) throw usageError(`${step === undefined ? `chapter ${entry.id}` : `${entry.id}/${step}`} has no drill`, 'workshop drill --list shows how many drills each chapter has');
  return { entry, drills };
}

/** A round the instructor started for the room: its id (the act's), how many drills, and the seed everyone shares. */
export interface ClassRound {
  id: number;
  drills: number;
  seed: number;
}

export interface PlanOpts {
  seed?: number;
  round?: boolean;
  classRound?: ClassRound;
}

/** What a drill (or the first of a round) will be, and what rebuilding the chapter removes: said before anything runs. */
export async function planDrill(j: Journey, target: string | undefined, opts: PlanOpts): Promise<DrillChoice> {
  const { entry, drills } = await candidates(j, target);
  const cls = opts.classRound;
  const seed = cls?.seed ?? opts.seed ?? newSeed();
  const round = opts.round === true || cls !== undefined;
  const chosen = pick(drills, seed, cls ? Math.min(cls.drills, drills.length) : round ? roundSize(drills.length) : 1);
  const [drill, ...left] = chosen;
  if (drill === undefined) throw new Error(`no drill was picked in ${entry.id}`);
  const classRound = cls ? { classRound: cls.id } : {};
  return { ...(await rebuildPlan(j, entry, drill)), seed, ...(round ? { round: { id: Date.now(), seed, chapter: entry.id, total: chosen.length, left, ...classRound } } : {}) };
}

async function rebuildPlan(j: Journey, entry: ChapterEntry, drill: DrillId): Promise<Omit<DrillChoice, 'seed'>> {
  const ids = entry.text.steps.map((s) => s.id);
  return { drill, replay: ids.slice(0, ids.indexOf(drill.step) + 1), removes: await whatCleanupRemoves(j, entry) };
}

export type DrillEvent = { type: 'cleanup' } | { type: 'solving'; step: string } | { type: 'breaking' };

export type StartOutcome = { ok: true; drill: ActiveDrill; ms: number; results: CheckResult[] } | { ok: false; error: string; results: CheckResult[] };

interface RunOpts {
  log: (line: string) => void;
  verbose: boolean;
  on: (e: DrillEvent) => void;
}

/**
 * Rebuilds the chapter to the solved state of the drill's step, applies the mutant and records the
 * drill as active. Progress is not touched (the chapter is started if it was not, as `show` does).
 */
export async function startDrill(j: Journey, choice: DrillChoice, opts: RunOpts): Promise<StartOutcome> {
  const t0 = performance.now();
  const { drill } = choice;
  const entry = j.chapter(drill.chapter);
  const { loaded, place } = await j.start(entry);
  opts.on({ type: 'cleanup' });
  try {
    await cleanupChapter(loaded, place, opts.log, opts.verbose);
    await setupChapter(loaded, place, opts.log, opts.verbose);
    for (const step of choice.replay) {
      opts.on({ type: 'solving', step });
      await solveStep(loaded, step, place, opts.log, opts.verbose);
    }
  } catch (err) {
    return { ok: false, error: `the chapter could not be rebuilt: ${describeFailure(err)}`, results: [] };
  }
  const solved = await verifyStep(loaded, drill.step, place);
  if (!allPassed(solved)) return { ok: false, error: `${drill.chapter}/${drill.step} does not pass after its solution ran`, results: solved };
  opts.on({ type: 'breaking' });
  await mutate(loaded, 'mutant', drill.step, drill.mutant, 'apply', place, () => {}, false);
  const broken = await verifyStep(loaded, drill.step, place);
  if (allPassed(broken)) return { ok: false, error: 'the near-miss was accepted by the checks (workshop test would fail too)', results: broken };
  const active = await activate(j, loaded, drill, choice, broken);
  return { ok: true, drill: active, ms: Math.round(performance.now() - t0), results: broken };
}

async function activate(j: Journey, loaded: LoadedChapter, drill: DrillId, choice: DrillChoice, broken: CheckResult[]): Promise<ActiveDrill> {
  const def = loaded.def.steps[drill.step];
  // a catalogued mutant always has one (leftOutBecause); this only satisfies the types
  const diagnosis = def?.mutants[drill.mutant]?.diagnosis ?? /$^/;
  const title = loaded.entry.text.steps.find((s) => s.id === drill.step)?.title ?? drill.step;
  const active: ActiveDrill = {
    ...drill,
    seed: choice.seed,
    startedAt: Date.now(),
    attempts: 0,
    hints: drillHints(title, fillHints(def?.hints ?? [], j.place(loaded.entry.id), j.ws.chapterDir(loaded.entry.id)), namingRow(broken, diagnosis)),
    hintsShown: 0,
    rows: failureText(broken),
    diagnosis: String(diagnosis),
    ...(choice.round ? { round: choice.round.id } : {}),
    ...(choice.round?.classRound === undefined ? {} : { classRound: choice.round.classRound }),
  };
  await changeBook(j.ws.home, 'drill', (book) => {
    book.active = active;
    if (choice.round) book.round = choice.round;
  });
  j.drilled({ step: `${drill.chapter}/${drill.step}`, mutant: drill.mutant, state: 'started', ms: 0, attempts: 0, hints: 0, round: active.classRound ?? null });
  return active;
}

async function placeOf(j: Journey, d: DrillId): Promise<{ loaded: LoadedChapter; place: ChapterPlace }> {
  return j.start(j.chapter(d.chapter));
}

/** `next` during a drill: the drill's step is verified; a pass ends the drill, a failure counts an attempt. */
export async function checkDrill(j: Journey, d: ActiveDrill): Promise<CheckOutcome> {
  const { loaded, place } = await placeOf(j, d);
  const results = await verifyStep(loaded, d.step, place);
  if (!allPassed(results)) {
    const drill = await changeBook(j.ws.home, 'next', (book) => {
      const a = book.active ?? d;
      a.attempts++;
      book.active = a;
      return a;
    });
    return { passed: false, drill, results };
  }
  const result = await endDrill(j, 'fixed');
  return { passed: true, result, results, round: await roundAfter(j) };
}

async function endDrill(j: Journey, outcome: DrillResult['outcome']): Promise<DrillResult> {
  const r = await changeBook(j.ws.home, 'drill', (book) => {
    if (!book.active) throw usageError('no drill is on', 'start one: workshop drill');
    const done = finished(book.active, outcome, Date.now());
    book.history.push(done);
    book.active = null;
    // an abandoned drill ends its round too: the chapter it was rebuilt in is gone
    if (outcome === 'abandoned') book.round = null;
    return done;
  });
  j.drilled({ step: `${r.chapter}/${r.step}`, mutant: r.mutant, state: outcome, ms: r.ms, attempts: r.attempts, hints: r.hints, round: r.classRound ?? null });
  return r;
}

async function roundAfter(j: Journey): Promise<RoundState> {
  const book = readBook(j.ws.home);
  const round = book.round;
  if (!round) return { kind: 'none' };
  const [drill, ...left] = round.left;
  if (drill === undefined) {
    await changeBook(j.ws.home, 'drill', (b) => {
      b.round = null;
    });
    return { kind: 'over', results: book.history.filter((r) => r.round === round.id) };
  }
  const next: DrillChoice = { ...(await rebuildPlan(j, j.chapter(drill.chapter), drill)), seed: round.seed, round: { ...round, left } };
  return { kind: 'next', next, done: round.total - round.left.length, total: round.total };
}

/**
 * `reset`, `goto --restore` and `clean` (issue 28): they remove what the drill of `chapter` (of any
 * chapter: null) broke, so the drill ends unfinished, with its round. Progress is not touched:
 * a drill never changed it. Undefined when no such drill is on.
 */
export async function abandonDrill(j: Journey, chapter: string | null): Promise<DrillResult | undefined> {
  const d = readBook(j.ws.home).active;
  if (!d || (chapter !== null && d.chapter !== chapter)) return undefined;
  return endDrill(j, 'abandoned');
}

/** The next hint of the active drill (area, then check, then fix), counted. */
export async function nextDrillHint(home: string): Promise<{ drill: ActiveDrill; text: string | undefined }> {
  const drill = await changeBook(home, 'hint', (book) => {
    if (!book.active) throw usageError('no drill is on', 'start one: workshop drill');
    book.active.hintsShown = Math.min(book.active.hintsShown + 1, book.active.hints.length);
    return book.active;
  });
  return { drill, text: drill.hints[drill.hintsShown - 1] };
}

export type GiveUpOutcome = { drill: ActiveDrill; result: DrillResult; repaired: { ok: true } | { ok: false; error: string; results: CheckResult[] }; round: RoundState };

/** `drill --give-up`: the answer, then the step's own solution repairs the state (proven by the self-test). */
export async function giveUp(j: Journey, opts: RunOpts): Promise<GiveUpOutcome> {
  const drill = readBook(j.ws.home).active;
  if (!drill) throw usageError('no drill is on', 'start one: workshop drill');
  const { loaded, place } = await placeOf(j, drill);
  let repaired: GiveUpOutcome['repaired'];
  try {
    await solveStep(loaded, drill.step, place, opts.log, opts.verbose);
    const after = await verifyStep(loaded, drill.step, place);
    repaired = allPassed(after) ? { ok: true } : { ok: false, error: 'its checks still fail after the solution ran', results: after };
  } catch (err) {
    repaired = { ok: false, error: describeFailure(err), results: [] };
  }
  const result = await endDrill(j, 'gave-up');
  return { drill, result, repaired, round: await roundAfter(j) };
}
