// The classroom's storage, as one interface. Every SQL statement and transaction lives behind it:
// node:sqlite (store-sqlite.ts) is the embedded default, PostgreSQL the second implementation.
// Both run the same suite, test/classroom/store.suite.ts. Every method is async because a
// network database is.

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
  /** a random UUID made on the learner's machine (randomUuid in checks/lang.ts): the server stores each one once */
  id: string;
  kind: 'started' | 'attempted' | 'passed' | 'hinted' | 'solved' | 'reset';
  /** `chapter/step`, or a chapter id for started and reset */
  step: string;
  /** next, check, watch (attempted); learner or solve (passed); '' otherwise */
  command: string;
  /** passed: the step the learner moved on to (null after the last one); null otherwise */
  next: string | null;
  outcome: 'pass' | 'fail' | 'error' | null;
  rows: ReportRow[];
  attempts: number;
  hints: number;
  /** ISO timestamp on the learner's clock */
  at: string;
}

export interface ClassInfo {
  id: number;
  name: string;
  /** short, typed by learners: `workshop classroom join URL CODE` */
  joinCode: string;
  /** opens the dashboard and the API; kept so that a restarted server prints the same URL */
  instructorToken: string;
  createdAt: string;
}

export interface Learner {
  id: number;
  classId: number;
  name: string;
  joinedAt: string;
}

/** A stored event: a learner joined, or one of their reports. `id` grows across the whole store. */
export type ClassEvent =
  | { id: number; type: 'joined'; learner: string; receivedAt: string }
  | { id: number; type: 'report'; learner: string; receivedAt: string; report: Report };

export interface ClassSnapshot {
  info: ClassInfo;
  learners: Learner[];
  /** every event of the class, in id order */
  events: ClassEvent[];
}

export interface Store {
  /** The class called `name`, created with a fresh join code and instructor token the first time. Idempotent. */
  openClass(name: string): Promise<ClassInfo>;
  /**
   * Exchanges a join code for a new learner token. A name already in the class is the same learner
   * (a rebuilt VM rejoins as itself); each join gets a fresh token and a `joined` event.
   * undefined when no class has that code.
   */
  join(joinCode: string, name: string): Promise<{ learner: Learner; token: string } | undefined>;
  /** The learner a token belongs to; undefined for an unknown token. Tokens may be stored hashed. */
  learnerByToken(token: string): Promise<Learner | undefined>;
  /**
   * Stores a report once per `report.id`, in one transaction, giving it the next event id.
   * `stored` is false when that id was already stored (then `eventId` is the first one's).
   * Ids must become visible in increasing order, so that a reader of eventsAfter(n) never skips
   * one that commits later with a smaller id (in PostgreSQL: serialize the insert).
   */
  insertReport(learnerId: number, report: Report): Promise<{ stored: boolean; eventId: number }>;
  /** The class's events with id > afterId, in id order, at most `limit` (for SSE Last-Event-ID replay). */
  eventsAfter(classId: number, afterId: number, limit: number): Promise<ClassEvent[]>;
  /** Everything the dashboard and the export are computed from. */
  snapshot(classId: number): Promise<ClassSnapshot>;
  /**
   * Calls `listener` with each new event of the class, in id order, stored by this process or (for
   * a shared database) by another server. Returns the unsubscribe function.
   */
  subscribe(classId: number, listener: (event: ClassEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** Short codes a learner can read aloud: no 0/O, 1/I/L. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newJoinCode(random: (n: number) => Uint8Array): string {
  const bytes = random(6);
  let s = '';
  for (const b of bytes) s += CODE_ALPHABET[b % CODE_ALPHABET.length] ?? 'A';
  return s;
}
