// The classroom's storage, as one interface. Every SQL statement and transaction lives behind it:
// node:sqlite (store-sqlite.ts) is the embedded default, PostgreSQL the second implementation.
// Both run the same suite, test/classroom/store.test.ts. Every method is async because a
// network database is.
import type { Alert, ClassEvent, InstructorAct, JoinHow, Report } from './contract.ts';
import type { LearnerName, LearnerState } from './identity.ts';
import type { StorageBudget } from './limits.ts';

// The event types are the API's contract (contract.ts); the stores and their callers import them from here too.
export type { Alert, ClassEvent, InstructorAct, JoinHow, Report, ReportRow } from './contract.ts';

export interface ClassInfo {
  id: number;
  name: string;
  /** short, typed by learners: `workshop classroom join URL CODE` */
  joinCode: string;
  /** opens the dashboard and the API; kept so that a restarted server prints the same URL */
  instructorToken: string;
  createdAt: string;
}

/** A learner as the store holds them; identity.ts says what each part means. */
export interface Learner {
  id: number;
  classId: number;
  /** the display name */
  name: string;
  /** the name key: unique among the class's learners that are not removed */
  nameKey: string;
  state: LearnerState;
  joinedAt: string;
}

export interface ClassSnapshot {
  info: ClassInfo;
  learners: Learner[];
  /** every event of the class, in id order */
  events: ClassEvent[];
}

export type JoinOutcome =
  | { kind: 'joined'; how: JoinHow; learner: Learner; token: string }
  | { kind: 'unknown code' }
  /** another learner holds the name, and the request did not carry their token */
  | { kind: 'name taken'; learner: Learner }
  /** a new learner would take the class over its storage budget */
  | { kind: 'over budget'; usedBytes: number };

export type ReportOutcome =
  | { kind: 'stored'; eventId: number }
  /** this report's UUID is stored already (then `eventId` is the first one's) */
  | { kind: 'duplicate'; eventId: number }
  /** no active learner holds this token (never issued, or revoked by a remove or a free) */
  | { kind: 'unknown token' }
  | { kind: 'over budget'; scope: 'learner' | 'class'; learner: Learner; usedBytes: number };

export interface Store {
  /** The class called `name`, created with a fresh join code and instructor token the first time. Idempotent. */
  openClass(name: string): Promise<ClassInfo>;
  /**
   * Exchanges a join code and a name for a learner token, in one transaction:
   * - a name no learner of the class holds: a new learner, with a new token ('new');
   * - a name held by the learner whose token `presented` is: that learner, with that token ('rejoined');
   * - a name the instructor freed: that learner, their progress, a new token; their old tokens are gone ('claimed');
   * - a name another learner holds: 'name taken', and nothing changes.
   * A new learner counts against `budget.classBytes`. Each join is a `joined` event.
   */
  join(joinCode: string, name: LearnerName, presented: string | undefined, budget: StorageBudget): Promise<JoinOutcome>;
  /** The active learner a token belongs to; undefined for an unknown or revoked token. Tokens are stored hashed. */
  learnerByToken(token: string): Promise<Learner | undefined>;
  /**
   * Stores a report of the learner holding `token`, once per `report.id`, in one transaction that
   * also checks the token (so a token revoked a moment ago is refused, whatever a cache says) and
   * the storage budgets, and gives it the next event id. Ids must become visible in increasing
   * order, so that a reader of eventsAfter(n) never skips one that commits later with a smaller
   * id (in PostgreSQL: serialize the insert). Concurrent inserts may pass a budget by the size
   * of the reports in flight.
   */
  insertReport(token: string, report: Report, budget: StorageBudget): Promise<ReportOutcome>;
  /**
   * The instructor's acts on a learner of the class. 'remove': the learner leaves the class, their
   * events are deleted (and their bytes no longer count), the name is free for someone new.
   * 'free': their tokens are revoked, and the next join under the name takes them over. Either
   * revokes every token of the learner and stores a `removed` or `freed` event. undefined when
   * the class has no such learner (or they were removed already).
   */
  actOnLearner(classId: number, learnerId: number, act: 'remove' | 'free'): Promise<Learner | undefined>;
  /** Stores an alert event (a limit reached), outside every budget: the caller bounds how many. */
  recordAlert(classId: number, learnerId: number | null, alert: Alert): Promise<number>;
  /** Stores an act of the instructor's (a message, a hold), outside every budget: only the instructor acts. */
  recordAct(classId: number, act: InstructorAct): Promise<number>;
  /** The class's events with id > afterId, in id order, at most `limit` (for SSE Last-Event-ID replay). */
  eventsAfter(classId: number, afterId: number, limit: number): Promise<ClassEvent[]>;
  /** The newest event id of the class; 0 when it has none. */
  maxEventId(classId: number): Promise<number>;
  /** Everything the dashboard and the export are computed from. */
  snapshot(classId: number): Promise<ClassSnapshot>;
  /**
   * Calls `listener` with each new event of the class, in id order, stored by this process or (for
   * a shared database) by another server. Returns the unsubscribe function.
   */
  subscribe(classId: number, listener: (event: ClassEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** The event row's body: a report or an alert as JSON; a join's how (null for a plain new one); nothing else. */
export function eventBody(e: { type: 'report'; report: Report } | { type: 'alert'; alert: Alert } | { type: 'act'; act: InstructorAct } | { type: 'joined'; how: JoinHow } | { type: 'removed' | 'freed' }): string | null {
  if (e.type === 'report') return JSON.stringify(e.report);
  if (e.type === 'alert') return JSON.stringify(e.alert);
  if (e.type === 'act') return JSON.stringify(e.act);
  if (e.type === 'joined') return e.how === 'new' ? null : JSON.stringify({ how: e.how });
  return null;
}

/** A stored row back as an event; the store wrote the body itself, so it is trusted. */
export function eventOf(r: { id: number; type: string; learnerId: number | null; learner: string | null; receivedAt: string; body: string | null }): ClassEvent {
  const base = { id: r.id, receivedAt: r.receivedAt };
  if (r.type === 'alert' && r.body !== null) return { ...base, type: 'alert', learnerId: r.learnerId, learner: r.learner, alert: JSON.parse(r.body) as Alert };
  if (r.type === 'act' && r.body !== null) return { ...base, type: 'act', learnerId: null, learner: null, act: JSON.parse(r.body) as InstructorAct };
  const who = { learnerId: r.learnerId ?? 0, learner: r.learner ?? '' };
  if (r.type === 'report' && r.body !== null) return { ...base, ...who, type: 'report', report: JSON.parse(r.body) as Report };
  if (r.type === 'removed') return { ...base, ...who, type: 'removed' };
  if (r.type === 'freed') return { ...base, ...who, type: 'freed' };
  const how = r.body === null ? 'new' : ((JSON.parse(r.body) as { how?: JoinHow }).how ?? 'new');
  return { ...base, ...who, type: 'joined', how };
}

/** Short codes a learner can read aloud: no 0/O, 1/I/L. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newJoinCode(random: (n: number) => Uint8Array): string {
  const bytes = random(6);
  let s = '';
  for (const b of bytes) s += CODE_ALPHABET[b % CODE_ALPHABET.length] ?? 'A';
  return s;
}
