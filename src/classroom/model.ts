// What the dashboard shows, folded from the class's events: a pure function of (events, pack,
// thresholds, now). The server keeps one model per class and applies each new event; /api/class,
// the export and `classroom status` are views of it.
import type { Alert, AlertView, Cell, ClassEvent, ClassView, CommonFailure, LearnerView, PackStep, ReportRow, Thresholds } from './contract.ts';
import { formatSize } from './limits.ts';

// The view types are the API's contract (contract.ts).
export type { AlertView, Cell, ClassView, CommonFailure, FailingRow, LearnerView, PackStep, Thresholds } from './contract.ts';

export interface Pack {
  steps: PackStep[];
  /** chapter id -> its step addresses, in order */
  chapters: Map<string, string[]>;
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
  state: 'active' | 'freed';
  joinedAt: string;
  lastSeen: string;
  current: string | null;
  /** when `current` became the current step */
  since: string;
  finished: boolean;
  done: Set<string>;
  last: Map<string, Tried>;
  attempts: Map<string, number>;
  hints: Map<string, number>;
}

export interface Model {
  pack: Pack;
  /** by learner id: a name can be freed or reused, an id never */
  learners: Map<number, LearnerState>;
  /** learners the instructor removed: a report of theirs still in flight is not theirs any more */
  removed: Set<number>;
  alerts: AlertView[];
  lastEventId: number;
}

/** The newest alerts kept for the view. */
const ALERTS_KEPT = 20;

export const emptyModel = (pack: Pack): Model => ({ pack, learners: new Map(), removed: new Set(), alerts: [], lastEventId: 0 });

/** The time a learner was last seen: their clock, but never later than when the server heard it. */
const seenAt = (at: string, receivedAt: string): string => (Date.parse(at) <= Date.parse(receivedAt) ? at : receivedAt);

function learner(m: Model, id: number, name: string, at: string): LearnerState {
  let l = m.learners.get(id);
  if (!l) {
    l = { id, name, state: 'active', joinedAt: at, lastSeen: at, current: m.pack.steps[0]?.id ?? null, since: at, finished: false, done: new Set(), last: new Map(), attempts: new Map(), hints: new Map() };
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

function moveTo(l: LearnerState, step: string | null, at: string): void {
  if (l.current === step) return;
  l.current = step;
  l.since = at;
  l.finished = step === null;
}

/** Applies one event; events must come in id order (older ones are ignored). */
export function applyEvent(m: Model, e: ClassEvent): void {
  if (e.id <= m.lastEventId) return;
  m.lastEventId = e.id;
  if (e.type === 'alert') {
    m.alerts = [...m.alerts, { at: e.receivedAt, learner: e.learner, limit: e.alert.limit, message: alertMessage(e.alert, e.learner) }].slice(-ALERTS_KEPT);
    return;
  }
  if (m.removed.has(e.learnerId)) return;
  if (e.type === 'removed') {
    m.learners.delete(e.learnerId);
    m.removed.add(e.learnerId);
    return;
  }
  if (e.type === 'freed' || e.type === 'joined') {
    learner(m, e.learnerId, e.learner, e.receivedAt).state = e.type === 'freed' ? 'freed' : 'active';
    return;
  }
  const r = e.report;
  const at = seenAt(r.at, e.receivedAt);
  const l = learner(m, e.learnerId, e.learner, at);
  if (Date.parse(at) > Date.parse(l.lastSeen)) l.lastSeen = at;
  switch (r.kind) {
    case 'started': {
      const steps = m.pack.chapters.get(r.step) ?? [];
      if (!l.current || !steps.includes(l.current)) moveTo(l, steps.find((s) => !l.done.has(s)) ?? steps[0] ?? l.current, at);
      break;
    }
    case 'attempted':
    case 'solved': {
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
      l.done.add(r.step);
      l.attempts.set(r.step, r.attempts);
      l.hints.set(r.step, r.hints);
      moveTo(l, r.next, at);
      break;
    case 'reset': {
      const steps = m.pack.chapters.get(r.step) ?? [];
      for (const s of steps) {
        l.done.delete(s);
        l.last.delete(s);
        l.attempts.delete(s);
        l.hints.delete(s);
      }
      if (steps[0]) moveTo(l, steps[0], at);
      break;
    }
  }
}

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

function learnerView(m: Model, l: LearnerState, t: Thresholds, now: number): LearnerView {
  const cur = l.current;
  const curIndex = cur === null ? m.pack.steps.length : m.pack.steps.findIndex((s) => s.id === cur);
  const tried = cur === null ? undefined : l.last.get(cur);
  const failingNow = cur !== null && !l.done.has(cur) && tried !== undefined && tried.outcome !== 'pass';
  const cells = m.pack.steps.map((s, i): Cell => {
    if (l.done.has(s.id)) return 'done';
    if (s.id === cur) return failingNow ? 'failing' : 'current';
    return i < curIndex ? 'skipped' : 'todo';
  });
  const attempts = cur === null ? 0 : (l.attempts.get(cur) ?? 0);
  const timeOnStepMs = Math.max(0, now - Date.parse(l.since));
  let stuckReason: string | null = null;
  if (cur !== null && !l.done.has(cur)) {
    if (failingNow && attempts >= t.stuckAttempts) stuckReason = `${attempts} failed attempts`;
    else if (timeOnStepMs >= t.stuckAfterMs) stuckReason = `${minutes(timeOnStepMs)} on this step`;
  }
  const rows = failingNow ? tried.rows : [];
  return {
    id: l.id,
    name: l.name,
    state: l.state,
    current: cur,
    done: m.pack.steps.filter((s) => l.done.has(s.id)).map((s) => s.id),
    cells,
    attempts,
    hints: cur === null ? 0 : (l.hints.get(cur) ?? 0),
    hintsTotal: [...l.hints.values()].reduce((a, b) => a + b, 0),
    stuck: stuckReason !== null,
    stuckReason,
    since: l.since,
    timeOnStepMs,
    lastSeen: l.lastSeen,
    failing: rows.filter((r) => r.status !== 'pass').map(({ check, expected, actual, hint }) => ({ check, expected, actual, hint })),
    table: failingNow && cur !== null ? { step: cur, at: tried.at, rows: tried.rows } : null,
  };
}

/** Identical failing checks (same step, check and expected value) across the class, largest group first. */
export function commonFailures(learners: readonly LearnerView[], pack: Pack): CommonFailure[] {
  const groups = new Map<string, { step: string; check: string; expected: string; actuals: Map<string, number>; learners: string[] }>();
  for (const l of learners) {
    if (!l.table) continue;
    for (const r of l.failing) {
      const key = JSON.stringify([l.table.step, r.check, r.expected]);
      let g = groups.get(key);
      if (!g) {
        g = { step: l.table.step, check: r.check, expected: r.expected, actuals: new Map(), learners: [] };
        groups.set(key, g);
      }
      g.actuals.set(r.actual, (g.actuals.get(r.actual) ?? 0) + 1);
      if (!g.learners.includes(l.name)) g.learners.push(l.name);
    }
  }
  const order = (step: string): number => pack.steps.findIndex((s) => s.id === step);
  return [...groups.values()]
    .map((g) => ({
      step: g.step,
      check: g.check,
      expected: g.expected,
      actual: [...g.actuals.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
      count: g.learners.length,
      learners: g.learners.sort(),
    }))
    .sort((a, b) => b.count - a.count || order(a.step) - order(b.step) || a.check.localeCompare(b.check));
}

export function classView(m: Model, t: Thresholds, now: number): ClassView {
  const learners = [...m.learners.values()].map((l) => learnerView(m, l, t, now)).sort((a, b) => a.name.localeCompare(b.name));
  return {
    steps: m.pack.steps,
    learners,
    commonFailures: commonFailures(learners, m.pack),
    passed: m.pack.steps.map((s) => learners.filter((l) => l.done.includes(s.id)).length),
    alerts: m.alerts,
    lastEventId: m.lastEventId,
    thresholds: t,
    generatedAt: new Date(now).toISOString(),
  };
}
