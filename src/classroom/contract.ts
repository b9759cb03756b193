// The class API's contract: what the server sends and the clients read. GET /api/class answers a
// ClassResponse; GET /api/events streams ClassEvents. The server (model.ts folds events into a
// ClassView), `workshop classroom status` (class-view.ts checks an answer field by field) and the
// dashboard (page/dashboard.js, type-checked with JSDoc against this file by
// page/tsconfig.json) all use these types. Types only, importing only the pure learner-state.ts:
// the page's check sees no Node.
import type { LearnerActivity, StateRules } from './learner-state.ts';

export type { LearnerActivity } from './learner-state.ts';

/** One row of a check table, exactly as the learner saw it. */
export interface ReportRow {
  check: string;
  status: 'pass' | 'fail' | 'error';
  expected: string;
  actual: string;
  hint: string;
}

/** What a learner's command did; sent by the reporter, validated by the server's schema. */
export interface Report {
  /** a random UUID made on the learner's machine (randomUuid in sys/lang.ts): the server stores each one once */
  id: string;
  /** answered: a question of the step judged; its id is rows[0].check, the try is `attempts` */
  kind: 'started' | 'attempted' | 'passed' | 'hinted' | 'solved' | 'reset' | 'left' | 'answered' | 'asked' | 'cleaned' | 'drilled';
  /** `chapter/step`, or a chapter id for started and reset; '' for left (`classroom leave`) and cleaned (`workshop clean`); the current step for asked (`workshop ask`) */
  step: string;
  /** next, check, watch (attempted); learner or solve (passed); '' otherwise. cleaned: outcome pass (nothing left) or fail (residue) */
  command: string;
  /** passed: the step the learner moved on to (null after the last one); null otherwise */
  next: string | null;
  outcome: 'pass' | 'fail' | 'error' | null;
  rows: ReportRow[];
  attempts: number;
  hints: number;
  /** ISO timestamp on the learner's clock */
  at: string;
  /** asked only: the learner's question (may be ''), at most QUESTION_CHARS */
  question?: string;
  /** drilled only: a drill of the step started or ended (issue 28); `attempts` and `hints` are the drill's */
  drill?: DrillFacts;
}

/** What a learner's drill report tells (issue 28): which near-miss, where it stands, how long it took. */
export interface DrillFacts {
  mutant: string;
  /** abandoned: reset, goto --restore or clean removed what it broke before it was fixed */
  state: 'started' | 'fixed' | 'gave-up' | 'abandoned';
  /** from the drill's start to its end; 0 when started */
  ms: number;
  /** the class round it belongs to (the act's event id); null for a drill of the learner's own */
  round: number | null;
}

/** The longest question a learner may ask, and the longest message an instructor may send (characters). */
export const QUESTION_CHARS = 500;
export const MESSAGE_CHARS = 1000;

/**
 * What the instructor did to the room (issue 22): a message to some learners (their ids, fixed
 * when it was sent, and the instructor's words for whom), or a hold at a step (null: released).
 */
export type InstructorAct =
  | { act: 'message'; text: string; to: number[]; label: string }
  | { act: 'hold'; step: string | null }
  /** a break-it round for the room (issue 28): `drills` drills of the chapter, picked by `seed`, the same for everyone */
  | { act: 'drill'; chapter: string; drills: number; seed: number };

/** How a join went: a new learner, the same learner again (with their own token), or a freed name taken over. */
export type JoinHow = 'new' | 'rejoined' | 'claimed';

/** A limit the class reached, for the instructor's view: a storage budget, or the join rate. */
export type Alert =
  | { limit: 'learner storage'; bytes: number }
  | { limit: 'class storage'; bytes: number }
  | { limit: 'joins'; per: 'address' | 'class'; refused: number };

/**
 * A stored event, as GET /api/events sends it. `id` grows across the whole store; `learnerId`
 * names the learner (null only for an alert about the whole class), `learner` is their display name.
 */
export type ClassEvent =
  | { id: number; type: 'joined'; learnerId: number; learner: string; receivedAt: string; how: JoinHow }
  | { id: number; type: 'report'; learnerId: number; learner: string; receivedAt: string; report: Report }
  | { id: number; type: 'removed'; learnerId: number; learner: string; receivedAt: string }
  | { id: number; type: 'freed'; learnerId: number; learner: string; receivedAt: string }
  | { id: number; type: 'alert'; learnerId: number | null; learner: string | null; receivedAt: string; alert: Alert }
  | { id: number; type: 'act'; learnerId: null; learner: null; receivedAt: string; act: InstructorAct };

export interface PackStep {
  /** `chapter/step` */
  id: string;
  title: string;
}

/** --idle-after, --stuck-after and --stuck-attempts (learner-state.ts says what they decide) */
export type Thresholds = StateRules;

/** 'solved': passed with `workshop solve`, not by the learner's own work */
export type Cell = 'done' | 'solved' | 'current' | 'failing' | 'skipped' | 'todo';

/** A limit the class reached, as a line for the instructor. */
export interface AlertView {
  at: string;
  learner: string | null;
  limit: Alert['limit'];
  message: string;
}

export interface FailingRow {
  check: string;
  expected: string;
  actual: string;
  hint: string;
}

export interface LearnerView {
  /** the learner's id: what the instructor's actions (remove, free) name */
  id: number;
  name: string;
  /** where the learner is in the room (learner-state.ts) */
  state: LearnerActivity;
  /** 'freed': the instructor freed the name, and the next join under it takes the learner over */
  access: 'active' | 'freed';
  current: string | null;
  /** the steps passed, in pack order, whether by the learner or by `workshop solve` */
  done: string[];
  /** those of them passed with `workshop solve` */
  solved: string[];
  /** one per pack step, in pack order */
  cells: Cell[];
  attempts: number;
  hints: number;
  hintsTotal: number;
  /** state === 'stuck' */
  stuck: boolean;
  stuckReason: string | null;
  /** seconds on the failing step, when stuck; 0 otherwise */
  stuckFor: number;
  since: string;
  timeOnStepMs: number;
  lastSeen: string;
  /** the failing rows of the latest failing check of the current step */
  failing: FailingRow[];
  /** that whole check table, as the learner saw it, with the step and when */
  table: { step: string; at: string; rows: ReportRow[] } | null;
  /** the learner's last `workshop clean`: when, and whether it left the machine clean */
  cleaned: { at: string; clean: boolean } | null;
  /** a raised hand (`workshop ask`), until the instructor sends this learner a message */
  hand: { question: string; at: string } | null;
}

/** A message the instructor sent, as the dashboard lists it. */
export interface MessageView {
  id: number;
  at: string;
  text: string;
  /** the instructor's words for whom: `everyone`, `ada`, `failing preflight/vm: …` */
  label: string;
  /** the names it went to */
  to: string[];
}

/** What a learner's sender fetches (GET /api/inbox): their messages, newest last, and the hold. */
export interface Inbox {
  messages: Array<{ id: number; at: string; text: string }>;
  /** the step the instructor asked the class to wait at; null when none */
  hold: string | null;
  /** the learner's hand is up */
  hand: boolean;
  /** the latest break-it round of the room (issue 28); null when none */
  drill: { id: number; chapter: string; drills: number; seed: number } | null;
}

/** A learner in a common failure, with what their own check found. */
export interface FailureMember {
  id: number;
  name: string;
  actual: string;
  state: LearnerActivity;
  /** seconds on the step */
  onStepFor: number;
  attempts: number;
}

/**
 * One failing check that several learners share: the same step, check and expected value once
 * nonces, timestamps and temporary paths are taken out (failure-key.ts). `check` and `expected`
 * are the first member's own words.
 */
export interface CommonFailure {
  step: string;
  check: string;
  expected: string;
  /** the most frequent actual value in the group */
  actual: string;
  count: number;
  /** the members' names, in alphabetical order */
  learners: string[];
  /** the longest on the step first, then the most attempts */
  members: FailureMember[];
  /** the members' minutes on the step, summed: what the list is sorted by */
  learnerMinutes: number;
}

/** The class, as the model computes it. */
export interface ClassView {
  steps: PackStep[];
  learners: LearnerView[];
  /** the most costly first: learner-minutes on the step, then head count */
  commonFailures: CommonFailure[];
  /** the ids of the stuck learners, the longest stuck first, then the most attempts */
  needsHelp: number[];
  /** per pack step: how many learners have passed it */
  passed: number[];
  /** limits the class reached (storage budgets, join rates), oldest first */
  alerts: AlertView[];
  /** per question answered in the class (issue 28), in the pack's step order */
  questions: QuestionTally[];
  /** the step the instructor asked the class to wait at (`classroom hold`), and since when */
  hold: { step: string; since: string } | null;
  /** the learners whose hand is up, the longest waiting first */
  hands: number[];
  /** the newest messages the instructor sent, oldest first */
  messages: MessageView[];
  /** the latest break-it round the instructor started, and who has fixed which of its drills */
  drillRound: DrillRoundView | null;
  lastEventId: number;
  thresholds: Thresholds;
  generatedAt: string;
}

/** A class round (issue 28): the act's event id names it. */
export interface DrillRound {
  id: number;
  chapter: string;
  drills: number;
  seed: number;
  since: string;
}

/** One learner's drill, as their reports tell it. */
export interface DrillCell {
  /** `chapter/step` */
  step: string;
  mutant: string;
  /** 'on': started, not fixed yet */
  state: 'on' | 'fixed' | 'gave-up' | 'abandoned';
  /** how long it took; null while it is on */
  seconds: number | null;
  attempts: number;
  hints: number;
  startedAt: string;
}

export interface DrillRoundView extends DrillRound {
  /** by learner name, those who started a drill of the round */
  learners: Array<{ name: string; drills: DrillCell[] }>;
  /** how many of them fixed every drill of the round (each as many as the round has, all fixed) */
  fixedAll: number;
}

/** One question of the pack, as the class answered it. */
export interface QuestionTally {
  /** `chapter/step` */
  step: string;
  question: string;
  /** learners who answered it at least once */
  answered: number;
  /** of those, how many were right on their first try */
  firstTry: number;
  /** by learner name: right on the first try, or not */
  learners: Array<{ name: string; firstTry: boolean }>;
}

/** GET /api/class */
export interface ClassResponse extends ClassView {
  /** labs: the server runs hosted labs (`--labs N`): a learner's panel links to their terminal */
  class: { name: string; joinCode: string; labs: boolean };
}

/** One learner's work on one step, for grading: passed by their own work (self) or with `workshop solve`. */
export interface GradeRow {
  step: string;
  by: 'self' | 'solve' | null;
  /** when the learner first reached or checked the step; null if never */
  firstSeen: string | null;
  passedAt: string | null;
  attempts: number;
  hints: number;
}

/** A question the learner answered (issue 28): right on their first try, or only later */
export interface GradeAnswer {
  step: string;
  question: string;
  firstTry: boolean;
}

/** A drill the learner met (issue 28): in a class round (its id) or on their own (null) */
export interface GradeDrill extends DrillCell {
  round: number | null;
}

/** A learner's grading summary: steps passed by themselves and with `workshop solve`, out of the class's steps. */
export interface GradeSummary {
  learner: string;
  state: LearnerActivity;
  bySelf: number;
  bySolve: number;
  total: number;
  attempts: number;
  hints: number;
  /** hosted labs: where the learner's terminal recording (asciicast v2) is kept on the server; null without a lab */
  recording: string | null;
}

/** GET /api/grades.json: a row per learner and step, and a summary per learner */
export interface Grades {
  class: string;
  steps: string[];
  learners: Array<{ summary: GradeSummary; steps: GradeRow[]; answers: GradeAnswer[]; drills: GradeDrill[] }>;
}

/** GET /api/history: the room over time (the dashboard's chart and scrubber) */
export interface ClassHistory {
  /** when the class's first event was received; null before any */
  from: string | null;
  to: string;
  /** each learner's first pass of each step, oldest first */
  passes: Array<{ at: string; step: string }>;
}

/** GET /api/export.json */
export interface ClassExport extends ClassView {
  class: string;
}
