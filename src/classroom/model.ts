// What the dashboard shows, folded from the class's events: a pure function of (events, pack,
// thresholds, now). The server keeps one model per class and applies each new event; /api/class,
// the export and `classroom status` are views of it.
import type { Alert, AlertView, Cell, ClassEvent, ClassView, CommonFailure, DrillRound, FailureMember, Inbox, InstructorAct, LearnerView, MessageView, PackStep, QuestionTally, ReportRow, Thresholds } from './contract.ts';
import { applyDrillReport, drillRoundView, type LearnerDrills } from './drill-round.ts';
import { failureKey } from './failure-key.ts';
import { byNeed, learnerState } from './learner-state.ts';
import { formatSize } from './limits.ts';

// The view types are the API's contract (contract.ts).
export type { AlertView, Cell, ClassView, CommonFailure, FailingRow, Inbox, LearnerView, MessageView, PackStep, Thresholds } from './contract.ts';

export interface Pack {
  steps: PackStep[];
  /** chapter id -> its step addresses, in order */
  chapters: Map<string, string[]>;
  /** an installed pack served by name (`serve --pack`): a learner who joins is told how to add it */
  installed?: ServedPack;
}

/**
 * The pack a class serves by name, and where it was installed from (the learner's `pack add`
 * takes it). `source` is null when that was a place on the instructor's machine (a folder, a
 * tarball, a file:// repository): the class server then hands out the pack itself, at
 * /api/pack.tgz.
 */
export interface ServedPack {
  name: string;
  source: string | null;
}

interface Tried {
  outcome: 'pass' | 'fail' | 'error';
  rows: ReportRow[];
  at: string;
}

interface LearnerState {
  id: number;
  name: string;
  /** 'freed': the instructor freed the name, and the next join under it takes this learner over */
  access: 'active' | 'freed';
  /** 'left': the learner ran `classroom leave`; a join or any other report brings them back */
  presence: 'joined' | 'left';
  joinedAt: string;
  lastSeen: string;
  current: string | null;
  /** when `current` became the current step */
  since: string;
  done: Set<string>;
  /** the done steps that `workshop solve` passed */
  solved: Set<string>;
  last: Map<string, Tried>;
  attempts: Map<string, number>;
  hints: Map<string, number>;
  /** `step question` → whether the first judged answer was right */
  firstAnswers: Map<string, boolean>;
  cleaned: { at: string; clean: boolean } | null;
  /** per step: when the learner first reached or checked it, and when they passed it (grading) */
  firstSeen: Map<string, string>;
  passedAt: Map<string, string>;
  /** `workshop ask`: up until the instructor sends this learner a message */
  hand: { question: string; at: string } | null;
  /** the drills they met (issue 28), by round, step and near-miss */
  drills: LearnerDrills;
}

/** A message of the instructor's, as stored: to learner ids. */
interface Sent {
  id: number;
  at: string;
  text: string;
  label: string;
  to: number[];
}

export interface Model {
  pack: Pack;
  /** by learner id: a name can be freed or reused, an id never */
  learners: Map<number, LearnerState>;
  /** learners the instructor removed: a report of theirs still in flight is not theirs any more */
  removed: Set<number>;
  alerts: AlertView[];
  /** the instructor's messages, the newest MESSAGES_KEPT */
  messages: Sent[];
  /** `classroom hold STEP`; null once released */
  hold: { step: string; since: string } | null;
  /** the latest break-it round (`classroom drill`, issue 28) */
  drillRound: DrillRound | null;
  lastEventId: number;
}

/** The newest alerts kept for the view. */
const ALERTS_KEPT = 20;
/** The newest messages kept (a learner's inbox is drawn from them), and how many the dashboard lists. */
const MESSAGES_KEPT = 500;
const MESSAGES_SHOWN = 20;

export const emptyModel = (pack: Pack): Model => ({ pack, learners: new Map(), removed: new Set(), alerts: [], messages: [], hold: null, drillRound: null, lastEventId: 0 });

/** The time a learner was last seen: their clock, but never later than when the server heard it. */
const seenAt = (at: string, receivedAt: string): string => (Date.parse(at) <= Date.parse(receivedAt) ? at : receivedAt);

function learner(m: Model, id: number, name: string, at: string): LearnerState {
  let l = m.learners.get(id);
  if (!l) {
    l = { id, name, access: 'active', presence: 'joined', joinedAt: at, lastSeen: at, current: m.pack.steps[0]?.id ?? null, since: at, done: new Set(), solved: new Set(), last: new Map(), attempts: new Map(), hints: new Map(), firstAnswers: new Map(), hand: null, cleaned: null, firstSeen: new Map(), passedAt: new Map(), drills: new Map() };
    m.learners.set(id, l);
  }
  return l;
}

/** The instructor's line for an alert. */
export function alertMessage(a: Alert, learner: string | null): string {
  switch (a.limit) {
    case 'learner storage':
      return `${learner ?? 'a learner'} used up the storage of a learner (${formatSize(a.bytes)}): their reports are refused. Remove them, or serve with a larger --learner-storage.`;
    case 'class storage':
      return `The class used up its storage (${formatSize(a.bytes)}): reports and new learners are refused. Remove learners, or serve with a larger --class-storage.`;
    case 'joins':
      return a.per === 'address'
        ? `Joins are arriving too fast from one address: ${a.refused} refused (--joins-per-address raises the limit, for a room behind one NAT).`
        : `New learners are arriving too fast: ${a.refused} joins refused (--joins-per-class raises the limit).`;
  }
}

/** The first time a learner reached or checked a step. */
function saw(l: LearnerState, step: string | null, at: string): void {
  if (step !== null && !l.firstSeen.has(step)) l.firstSeen.set(step, at);
}

function moveTo(l: LearnerState, step: string | null, at: string): void {
  saw(l, step, at);
  if (l.current === step) return;
  l.current = step;
  l.since = at;
}

/** A message drops the hands of those it goes to (it is the answer); a hold moves the room's hold. */
function applyAct(m: Model, id: number, at: string, a: InstructorAct): void {
  if (a.act === 'hold') {
    m.hold = a.step === null ? null : { step: a.step, since: at };
    return;
  }
  if (a.act === 'drill') {
    m.drillRound = { id, chapter: a.chapter, drills: a.drills, seed: a.seed, since: at };
    return;
  }
  m.messages.push({ id, at, text: a.text, label: a.label, to: a.to });
  if (m.messages.length > MESSAGES_KEPT) m.messages.splice(0, m.messages.length - MESSAGES_KEPT);
  for (const to of a.to) {
    const l = m.learners.get(to);
    if (l) l.hand = null;
  }
}

/** Applies one event; events must come in id order (older ones are ignored). */
export function applyEvent(m: Model, e: ClassEvent): void {
  if (e.id <= m.lastEventId) return;
  m.lastEventId = e.id;
  if (e.type === 'alert') {
    m.alerts = [...m.alerts, { at: e.receivedAt, learner: e.learner, limit: e.alert.limit, message: alertMessage(e.alert, e.learner) }].slice(-ALERTS_KEPT);
    return;
  }
  if (e.type === 'act') {
    applyAct(m, e.id, e.receivedAt, e.act);
    return;
  }
  if (m.removed.has(e.learnerId)) return;
  if (e.type === 'removed') {
    m.learners.delete(e.learnerId);
    m.removed.add(e.learnerId);
    return;
  }
  if (e.type === 'freed' || e.type === 'joined') {
    const l = learner(m, e.learnerId, e.learner, e.receivedAt);
    l.access = e.type === 'freed' ? 'freed' : 'active';
    if (e.type === 'joined') {
      // joining is a command of the learner's: they are here
      l.presence = 'joined';
      if (Date.parse(e.receivedAt) > Date.parse(l.lastSeen)) l.lastSeen = e.receivedAt;
    }
    return;
  }
  const r = e.report;
  const at = seenAt(r.at, e.receivedAt);
  const l = learner(m, e.learnerId, e.learner, at);
  if (Date.parse(at) > Date.parse(l.lastSeen)) l.lastSeen = at;
  l.presence = r.kind === 'left' ? 'left' : 'joined';
  switch (r.kind) {
    case 'left':
      l.hand = null;
      break;
    case 'asked':
      l.hand = { question: r.question ?? '', at };
      break;
    case 'cleaned':
      // progress is kept by clean: only the fact is shown
      l.cleaned = { at, clean: r.outcome === 'pass' };
      break;
    case 'started': {
      const steps = m.pack.chapters.get(r.step) ?? [];
      if (!l.current || !steps.includes(l.current)) moveTo(l, steps.find((s) => !l.done.has(s)) ?? steps[0] ?? l.current, at);
      break;
    }
    case 'attempted':
    case 'solved': {
      saw(l, r.step, at);
      if (r.outcome) l.last.set(r.step, { outcome: r.outcome, rows: r.rows, at });
      l.attempts.set(r.step, r.attempts);
      l.hints.set(r.step, r.hints);
      // `check other/step` looks without moving; next, watch and solve work on the current step
      if (r.command !== 'check' || l.current === null) moveTo(l, r.step, at);
      break;
    }
    case 'hinted':
      l.hints.set(r.step, r.hints);
      moveTo(l, r.step, at);
      break;
    case 'passed':
      saw(l, r.step, at);
      l.passedAt.set(r.step, at);
      l.done.add(r.step);
      if (r.command === 'solve') l.solved.add(r.step);
      else l.solved.delete(r.step);
      l.attempts.set(r.step, r.attempts);
      l.hints.set(r.step, r.hints);
      moveTo(l, r.next, at);
      break;
    case 'drilled':
      // a drill never moves the learner in the chapter
      applyDrillReport(l.drills, r, at);
      break;
    case 'answered': {
      // the first judged answer counts, whichever report of it arrives first
      const key = `${r.step} ${r.rows[0]?.check ?? ''}`;
      if (!l.firstAnswers.has(key)) l.firstAnswers.set(key, r.attempts <= 1 && r.outcome === 'pass');
      break;
    }
    case 'reset': {
      const steps = m.pack.chapters.get(r.step) ?? [];
      for (const s of steps) {
        l.done.delete(s);
        l.solved.delete(s);
        l.last.delete(s);
        l.attempts.delete(s);
        l.hints.delete(s);
        l.passedAt.delete(s);
      }
      if (steps[0]) moveTo(l, steps[0], at);
      break;
    }
  }
}

function learnerView(m: Model, l: LearnerState, t: Thresholds, now: number): LearnerView {
  const cur = l.current;
  const curIndex = cur === null ? m.pack.steps.length : m.pack.steps.findIndex((s) => s.id === cur);
  const tried = cur === null ? undefined : l.last.get(cur);
  const failingNow = cur !== null && !l.done.has(cur) && tried !== undefined && tried.outcome !== 'pass';
  const cells = m.pack.steps.map((s, i): Cell => {
    if (l.done.has(s.id)) return l.solved.has(s.id) ? 'solved' : 'done';
    if (s.id === cur) return failingNow ? 'failing' : 'current';
    return i < curIndex ? 'skipped' : 'todo';
  });
  const attempts = cur === null ? 0 : (l.attempts.get(cur) ?? 0);
  const timeOnStepMs = Math.max(0, now - Date.parse(l.since));
  const allDone = m.pack.steps.every((s) => l.done.has(s.id));
  const facts = { presence: l.presence, done: allDone ? 'all' : 'some', lastSeenMs: Date.parse(l.lastSeen), onStepSinceMs: cur === null ? null : Date.parse(l.since), latest: failingNow ? 'failed' : tried ? 'passed' : 'none', attempts } as const;
  const s = learnerState(facts, t, now);
  const rows = failingNow ? tried.rows : [];
  return {
    id: l.id,
    name: l.name,
    state: s.state,
    access: l.access,
    current: cur,
    done: m.pack.steps.filter((st) => l.done.has(st.id)).map((st) => st.id),
    solved: m.pack.steps.filter((st) => l.solved.has(st.id)).map((st) => st.id),
    cells,
    attempts,
    hints: cur === null ? 0 : (l.hints.get(cur) ?? 0),
    hintsTotal: [...l.hints.values()].reduce((a, b) => a + b, 0),
    stuck: s.state === 'stuck',
    stuckReason: s.state === 'stuck' ? s.reason : null,
    stuckFor: Math.round(s.stuckForMs / 1000),
    since: l.since,
    timeOnStepMs,
    lastSeen: l.lastSeen,
    failing: rows.filter((r) => r.status !== 'pass').map(({ check, expected, actual, hint }) => ({ check, expected, actual, hint })),
    table: failingNow && cur !== null ? { step: cur, at: tried.at, rows: tried.rows } : null,
    hand: l.hand,
    cleaned: l.cleaned,
  };
}

/**
 * The failing checks that learners share, grouped by meaning (failure-key.ts), each with its
 * members and their own actual values; the most costly first: the members' minutes on the step
 * summed, then the head count, then pack order.
 */
export function commonFailures(learners: readonly LearnerView[], pack: Pack): CommonFailure[] {
  const groups = new Map<string, { step: string; check: string; expected: string; members: FailureMember[]; minutes: number }>();
  for (const l of learners) {
    if (!l.table) continue;
    const step = l.table.step;
    for (const r of l.failing) {
      const key = failureKey(step, r.check, r.expected);
      let g = groups.get(key);
      if (!g) {
        g = { step, check: r.check, expected: r.expected, members: [], minutes: 0 };
        groups.set(key, g);
      }
      if (g.members.some((x) => x.id === l.id)) continue;
      g.members.push({ id: l.id, name: l.name, actual: r.actual, state: l.state, onStepFor: Math.round(l.timeOnStepMs / 1000), attempts: l.attempts });
      g.minutes += l.timeOnStepMs / 60_000;
    }
  }
  const order = (step: string): number => pack.steps.findIndex((s) => s.id === step);
  return [...groups.values()]
    .map((g) => {
      const members = g.members.sort((a, b) => byNeed({ stuckForMs: a.onStepFor, attempts: a.attempts }, { stuckForMs: b.onStepFor, attempts: b.attempts }) || a.name.localeCompare(b.name));
      const counts = new Map<string, number>();
      for (const x of members) counts.set(x.actual, (counts.get(x.actual) ?? 0) + 1);
      return {
        step: g.step,
        check: g.check,
        expected: g.expected,
        actual: [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
        count: members.length,
        learners: members.map((x) => x.name).sort((a, b) => a.localeCompare(b)),
        members,
        learnerMinutes: Math.round(g.minutes * 10) / 10,
      };
    })
    .sort((a, b) => b.learnerMinutes - a.learnerMinutes || b.count - a.count || order(a.step) - order(b.step) || a.check.localeCompare(b.check));
}
/** Per question: who answered, and who was right on the first try (issue 28). */
export function questionTallies(m: Model): QuestionTally[] {
  const by = new Map<string, QuestionTally>();
  for (const l of m.learners.values()) {
    for (const [key, first] of l.firstAnswers) {
      const [step = '', question = ''] = key.split(' ');
      const t = by.get(key) ?? { step, question, answered: 0, firstTry: 0, learners: [] };
      t.answered += 1;
      if (first) t.firstTry += 1;
      t.learners.push({ name: l.name, firstTry: first });
      by.set(key, t);
    }
  }
  const order = (s: string) => m.pack.steps.findIndex((x) => x.id === s);
  return [...by.values()].sort((a, b) => order(a.step) - order(b.step) || a.question.localeCompare(b.question));
}

export function classView(m: Model, t: Thresholds, now: number): ClassView {
  const learners = [...m.learners.values()].map((l) => learnerView(m, l, t, now)).sort((a, b) => a.name.localeCompare(b.name));
  return {
    steps: m.pack.steps,
    learners,
    commonFailures: commonFailures(learners, m.pack),
    needsHelp: learners
      .filter((l) => l.state === 'stuck')
      .sort((a, b) => byNeed({ stuckForMs: a.stuckFor, attempts: a.attempts }, { stuckForMs: b.stuckFor, attempts: b.attempts }))
      .map((l) => l.id),
    passed: m.pack.steps.map((s) => learners.filter((l) => l.done.includes(s.id)).length),
    alerts: m.alerts,
    questions: questionTallies(m),
    hold: m.hold,
    hands: learners
      .filter((l) => l.hand !== null)
      .sort((a, b) => Date.parse(a.hand?.at ?? '') - Date.parse(b.hand?.at ?? ''))
      .map((l) => l.id),
    messages: m.messages.slice(-MESSAGES_SHOWN).map((x) => messageView(m, x)),
    drillRound: drillRoundView(m.drillRound, [...m.learners.values()]),
    lastEventId: m.lastEventId,
    thresholds: t,
    generatedAt: new Date(now).toISOString(),
  };
}

function messageView(m: Model, x: Sent): MessageView {
  const names = x.to.map((id) => m.learners.get(id)?.name).filter((n): n is string => n !== undefined);
  return { id: x.id, at: x.at, text: x.text, label: x.label, to: names };
}

/** What one learner's sender fetches: the messages to them (the newest MESSAGES_SHOWN), the hold, their hand, the room's drill round. */
export function inboxOf(m: Model, learnerId: number): Inbox {
  const mine = m.messages.filter((x) => x.to.includes(learnerId)).slice(-MESSAGES_SHOWN);
  return { messages: mine.map((x) => ({ id: x.id, at: x.at, text: x.text })), hold: m.hold?.step ?? null, hand: (m.learners.get(learnerId)?.hand ?? null) !== null, drill: m.drillRound && { id: m.drillRound.id, chapter: m.drillRound.chapter, drills: m.drillRound.drills, seed: m.drillRound.seed } };
}
