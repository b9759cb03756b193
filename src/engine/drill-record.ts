// A drill's record (issue 28): drills.json in the home, apart from state.json, so that a drill
// never marks the chapter's steps done or undone. It holds the drill in progress (if any), the
// round it belongs to, and what each finished drill took (time, attempts, hints). Small and
// free of heavy imports: `next` and `hint` read it on every run to learn whether a drill is on.
import { join } from 'node:path';
import type { CheckResult } from '../checks/check.ts';
import { isRecord } from '../sys/lang.ts';
import { changeRecord, parseRecord, readRecord, type RecordKind } from './json-record.ts';

export const DRILLS_FORMAT = 1;

/** One mutant of one step: what a drill breaks. */
export interface DrillId {
  chapter: string;
  step: string;
  mutant: string;
}

/** The drill the learner is in: chosen, applied, and being fixed. */
export interface ActiveDrill extends DrillId {
  seed: number;
  startedAt: number;
  /** `next` runs that failed while the drill was on */
  attempts: number;
  /** the three hints (area, check, fix), computed from the diagnosis when the drill started */
  hints: string[];
  hintsShown: number;
  /** what the failure looked like when the drill started, and the proven pattern it matches: the answer */
  rows: string;
  diagnosis: string;
  /** the round this drill is part of, by its start time */
  round?: number;
  /** the class round (issue 28) it is part of: the instructor's act's id, told to the class with each report */
  classRound?: number;
}

/** A round: the drills still to come, after the active one. */
export interface Round {
  id: number;
  seed: number;
  chapter: string;
  total: number;
  left: DrillId[];
  /** a round the instructor started for the room (`workshop drill --class`) */
  classRound?: number;
}

export interface DrillResult extends DrillId {
  seed: number;
  startedAt: number;
  ms: number;
  attempts: number;
  hints: number;
  /** abandoned: reset, goto --restore or clean removed what the drill broke before it was fixed */
  outcome: 'fixed' | 'gave-up' | 'abandoned';
  round?: number;
  classRound?: number;
}

/** A drill to start (or the first of a round), and what rebuilding its chapter runs and removes. */
export interface DrillChoice {
  drill: DrillId;
  seed: number;
  /** the steps whose reference solutions run before the mutant, in order (the step itself last) */
  replay: string[];
  /** what the chapter's cleanup removes first, one line each */
  removes: string[];
  /** the rest of a round, after this drill */
  round?: Round;
}

/** `next` during a drill: still failing (an attempt counted), or passed (the drill ended, and where its round stands). */
export type CheckOutcome =
  | { passed: false; drill: ActiveDrill; results: CheckResult[] }
  | { passed: true; result: DrillResult; results: CheckResult[]; round: RoundState };

/** Where a round stands after a drill ended: the next drill to start, or the summary. */
export type RoundState = { kind: 'none' } | { kind: 'next'; next: DrillChoice; done: number; total: number } | { kind: 'over'; results: DrillResult[] };

export interface DrillBook {
  formatVersion: typeof DRILLS_FORMAT;
  active: ActiveDrill | null;
  round: Round | null;
  history: DrillResult[];
}

export const emptyBook = (): DrillBook => ({ formatVersion: DRILLS_FORMAT, active: null, round: null, history: [] });

export const drillsPath = (home: string): string => join(home, 'drills.json');

const DRILLS: RecordKind<DrillBook> = {
  path: drillsPath,
  empty: emptyBook,
  accept: (v) => (isRecord(v) && v['formatVersion'] === DRILLS_FORMAT && Array.isArray(v['history']) && 'active' in v ? { ...emptyBook(), ...(v as unknown as DrillBook) } : undefined),
  what: 'a drill record',
  wayOut: 'it holds only drills, not your progress: remove it (rm PATH) and start the drill again',
  lost: 'the drill was not recorded',
};

/** Pure: the book in a file's text; a file that is not one is refused with the way out. */
export const parseBook = (text: string, path: string): DrillBook => parseRecord(DRILLS, text, path);

export const readBook = (home: string): DrillBook => readRecord(DRILLS, home);

/** The drill in progress, or undefined: what `next` and `hint` ask first. */
export const activeDrill = (home: string): ActiveDrill | undefined => readBook(home).active ?? undefined;

/** Changes the book under the workspace lock, on a fresh read, and writes it atomically. */
export const changeBook = <T>(home: string, command: string, fn: (book: DrillBook) => T): Promise<T> => changeRecord(DRILLS, home, command, fn);

/** Pure: the result of the active drill as it ends now. */
export const finished = (d: ActiveDrill, outcome: DrillResult['outcome'], now: number): DrillResult => ({
  chapter: d.chapter,
  step: d.step,
  mutant: d.mutant,
  seed: d.seed,
  startedAt: d.startedAt,
  ms: Math.max(0, now - d.startedAt),
  attempts: d.attempts,
  hints: d.hintsShown,
  outcome,
  ...(d.round === undefined ? {} : { round: d.round }),
  ...(d.classRound === undefined ? {} : { classRound: d.classRound }),
});
