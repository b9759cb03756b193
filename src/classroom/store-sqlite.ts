// The embedded store: Node 24's built-in node:sqlite, in WAL mode, one file (by default
// WORKSHOP_HOME/classroom.db). DatabaseSync is synchronous, so each method is one transaction
// that no other request can interleave with; the async signatures are for the Store interface.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { learnerName, newToken, type LearnerName, type LearnerState } from './identity.ts';
import { eventCost, JOIN_ROOM_BYTES, type StorageBudget } from './limits.ts';
import { sqliteProblem } from './sqlite-file.ts';
import {
  eventBody,
  eventOf,
  newJoinCode,
  type Alert,
  type ClassEvent,
  type ClassInfo,
  type ClassSnapshot,
  type JoinHow,
  type JoinOutcome,
  type Learner,
  type Report,
  type ReportOutcome,
  type Store,
} from './store.ts';

/** Index i is the migration to version i + 1 (PRAGMA user_version). Append only. */
const MIGRATIONS: ReadonlyArray<(db: DatabaseSync) => void> = [
  // 1: the first schema. IF NOT EXISTS: a database from before user_version was kept has it already.
  (db) =>
    db.exec(`
    CREATE TABLE IF NOT EXISTS classes (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      join_code TEXT NOT NULL UNIQUE,
      instructor_token TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS learners (
      id INTEGER PRIMARY KEY,
      class_id INTEGER NOT NULL REFERENCES classes(id),
      name TEXT NOT NULL,
      joined_at TEXT NOT NULL,
      UNIQUE (class_id, name)
    );
    CREATE TABLE IF NOT EXISTS tokens (
      hash TEXT PRIMARY KEY,
      learner_id INTEGER NOT NULL REFERENCES learners(id)
    );
    CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      class_id INTEGER NOT NULL REFERENCES classes(id),
      learner_id INTEGER NOT NULL REFERENCES learners(id),
      type TEXT NOT NULL CHECK (type IN ('joined', 'report')),
      report_id TEXT UNIQUE,
      body TEXT,
      received_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS events_by_class ON events (class_id, id);`),
  // 2: learner identity (name keys, states) and storage budgets. SQLite changes a constraint only
  // by rebuilding the table: learners (UNIQUE (class_id, name) becomes a unique name key among the
  // learners not removed) and events (more types; an alert may be about no learner).
  (db) => {
    db.exec(`
    CREATE TABLE learners_v2 (
      id INTEGER PRIMARY KEY,
      class_id INTEGER NOT NULL REFERENCES classes(id),
      name TEXT NOT NULL,
      name_key TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'freed', 'removed')),
      stored_bytes INTEGER NOT NULL DEFAULT 0,
      joined_at TEXT NOT NULL
    );
    CREATE TABLE events_v2 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      class_id INTEGER NOT NULL REFERENCES classes(id),
      learner_id INTEGER REFERENCES learners(id),
      type TEXT NOT NULL CHECK (type IN ('joined', 'report', 'removed', 'freed', 'alert')),
      report_id TEXT UNIQUE,
      body TEXT,
      received_at TEXT NOT NULL
    );
    INSERT INTO events_v2 (id, class_id, learner_id, type, report_id, body, received_at) SELECT id, class_id, learner_id, type, report_id, body, received_at FROM events;
    ALTER TABLE classes ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;`);
    // Name keys are worked out here, by the same function as a join's (identity.ts). Two old
    // learners whose names now count as one keep apart: the later one's key gets its id.
    const insert = db.prepare('INSERT INTO learners_v2 (id, class_id, name, name_key, joined_at) VALUES (?, ?, ?, ?, ?)');
    const seen = new Set<string>();
    for (const r of db.prepare('SELECT id, class_id, name, joined_at FROM learners ORDER BY id').all() as unknown as Array<{ id: number; class_id: number; name: string; joined_at: string }>) {
      let key = learnerName(r.name)?.key ?? r.name.toLowerCase();
      if (seen.has(`${r.class_id}:${key}`)) key = `${key}#${r.id}`;
      seen.add(`${r.class_id}:${key}`);
      insert.run(r.id, r.class_id, r.name, key, r.joined_at);
    }
    const seq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined)?.seq ?? 0;
    db.exec(`
    DROP TABLE events;
    DROP TABLE learners;
    ALTER TABLE learners_v2 RENAME TO learners;
    ALTER TABLE events_v2 RENAME TO events;
    CREATE INDEX events_by_class ON events (class_id, id);
    CREATE INDEX events_by_learner ON events (learner_id);
    CREATE UNIQUE INDEX learners_by_name_key ON learners (class_id, name_key) WHERE state <> 'removed';
    CREATE INDEX tokens_by_learner ON tokens (learner_id);`);
    // AUTOINCREMENT never hands out an id twice, deleted or not: carry the old table's high mark
    db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'").run(seq);
    const cost = `${eventCost(null)} + coalesce(length(CAST(body AS BLOB)), 0)`;
    db.exec(`
    UPDATE learners SET stored_bytes = coalesce((SELECT sum(${cost}) FROM events e WHERE e.learner_id = learners.id), 0);
    UPDATE classes SET stored_bytes = coalesce((SELECT sum(${cost}) FROM events e WHERE e.class_id = classes.id), 0);`);
  },
];

/** Tokens are kept as SHA-256: a copied database file does not hand out learner identities. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

interface EventRow {
  id: number;
  type: string;
  learner_id: number | null;
  learner: string | null;
  received_at: string;
  body: string | null;
}
interface ClassRow {
  id: number;
  name: string;
  join_code: string;
  instructor_token: string;
  created_at: string;
  stored_bytes: number;
}
interface LearnerRow {
  id: number;
  class_id: number;
  name: string;
  name_key: string;
  state: LearnerState;
  stored_bytes: number;
  joined_at: string;
}

const toInfo = (r: ClassRow): ClassInfo => ({ id: r.id, name: r.name, joinCode: r.join_code, instructorToken: r.instructor_token, createdAt: r.created_at });
const toLearner = (r: LearnerRow): Learner => ({ id: r.id, classId: r.class_id, name: r.name, nameKey: r.name_key, state: r.state, joinedAt: r.joined_at });
const toEvent = (r: EventRow): ClassEvent => eventOf({ id: r.id, type: r.type, learnerId: r.learner_id, learner: r.learner, receivedAt: r.received_at, body: r.body });

const EVENT_SELECT = 'SELECT e.id AS id, e.type AS type, e.learner_id AS learner_id, l.name AS learner, e.received_at AS received_at, e.body AS body FROM events e LEFT JOIN learners l ON l.id = e.learner_id';

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #listeners = new Map<number, Set<(e: ClassEvent) => void>>();

  constructor(file: string) {
    let db: DatabaseSync | undefined;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      db = new DatabaseSync(file);
      // WAL lets readers (the dashboard) run while a report commits. synchronous = NORMAL: a commit
      // is in the WAL file before the report is acknowledged, so it survives a kill -9 of the server
      // (tested); only a power cut of the instructor's machine can lose the last few. FULL fsyncs
      // every commit: 2.2 ms here, with DatabaseSync blocking the event loop, which put the load
      // test's p99 at 300 ms.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      migrate(db);
      db.exec('PRAGMA foreign_keys = ON;');
    } catch (err) {
      if (db?.isOpen) db.close();
      throw sqliteProblem(file, err);
    }
    this.#db = db;
  }

  readonly #statements = new Map<string, StatementSync>();

  /** Prepared once per SQL text: preparing on every request costs more than running. */
  #q(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  #tx<T>(fn: () => T): T {
    return transaction(this.#db, fn);
  }

  #emit(classId: number, e: ClassEvent): void {
    for (const l of this.#listeners.get(classId) ?? []) l(e);
  }

  #event(id: number): ClassEvent {
    const r = this.#q(`${EVENT_SELECT} WHERE e.id = ?`).get(id) as EventRow | undefined;
    if (!r) throw new Error(`event ${id} vanished`);
    return toEvent(r);
  }

  /** Inserts an event row; a joined or report event counts against the learner's and the class's bytes. */
  #insertEvent(classId: number, learnerId: number | null, type: ClassEvent['type'], body: string | null, reportId: string | null): number {
    const r = this.#q('INSERT INTO events (class_id, learner_id, type, report_id, body, received_at) VALUES (?, ?, ?, ?, ?, ?)').run(classId, learnerId, type, reportId, body, new Date().toISOString());
    if (learnerId !== null && (type === 'joined' || type === 'report')) {
      const cost = eventCost(body);
      this.#q('UPDATE learners SET stored_bytes = stored_bytes + ? WHERE id = ?').run(cost, learnerId);
      this.#q('UPDATE classes SET stored_bytes = stored_bytes + ? WHERE id = ?').run(cost, classId);
    }
    return Number(r.lastInsertRowid);
  }

  async openClass(name: string): Promise<ClassInfo> {
    return this.#tx(() => {
      const found = this.#q('SELECT * FROM classes WHERE name = ?').get(name) as ClassRow | undefined;
      if (found) return toInfo(found);
      const now = new Date().toISOString();
      for (;;) {
        const code = newJoinCode((n) => randomBytes(n));
        if (this.#q('SELECT 1 FROM classes WHERE join_code = ?').get(code)) continue;
        const token = newToken((n) => randomBytes(n));
        const r = this.#q('INSERT INTO classes (name, join_code, instructor_token, created_at) VALUES (?, ?, ?, ?)').run(name, code, token, now);
        return { id: Number(r.lastInsertRowid), name, joinCode: code, instructorToken: token, createdAt: now };
      }
    });
  }

  async join(joinCode: string, name: LearnerName, presented: string | undefined, budget: StorageBudget): Promise<JoinOutcome> {
    const out = this.#tx((): { outcome: JoinOutcome; eventId?: number } => {
      const cls = this.#q('SELECT id, stored_bytes FROM classes WHERE join_code = ?').get(joinCode) as { id: number; stored_bytes: number } | undefined;
      if (!cls) return { outcome: { kind: 'unknown code' } };
      const held = this.#q("SELECT * FROM learners WHERE class_id = ? AND name_key = ? AND state <> 'removed'").get(cls.id, name.key) as LearnerRow | undefined;
      let how: JoinHow;
      let row: LearnerRow;
      let token: string;
      if (held && held.state === 'active') {
        const own = presented !== undefined && this.#q('SELECT 1 FROM tokens WHERE hash = ? AND learner_id = ?').get(tokenHash(presented), held.id) !== undefined;
        if (!own || presented === undefined) return { outcome: { kind: 'name taken', learner: toLearner(held) } };
        how = 'rejoined';
        row = held;
        token = presented;
      } else {
        if (!held && cls.stored_bytes + JOIN_ROOM_BYTES > budget.classBytes) return { outcome: { kind: 'over budget', usedBytes: cls.stored_bytes } };
        token = newToken((n) => randomBytes(n));
        if (held) {
          how = 'claimed';
          this.#q("UPDATE learners SET state = 'active' WHERE id = ?").run(held.id);
          row = { ...held, state: 'active' };
        } else {
          how = 'new';
          const ins = this.#q('INSERT INTO learners (class_id, name, name_key, joined_at) VALUES (?, ?, ?, ?)').run(cls.id, name.display, name.key, new Date().toISOString());
          row = this.#q('SELECT * FROM learners WHERE id = ?').get(Number(ins.lastInsertRowid)) as unknown as LearnerRow;
        }
        this.#q('INSERT INTO tokens (hash, learner_id) VALUES (?, ?)').run(tokenHash(token), row.id);
      }
      const eventId = this.#insertEvent(cls.id, row.id, 'joined', eventBody({ type: 'joined', how }), null);
      return { outcome: { kind: 'joined', how, learner: toLearner(row), token }, eventId };
    });
    if (out.eventId !== undefined && out.outcome.kind === 'joined') this.#emit(out.outcome.learner.classId, this.#event(out.eventId));
    return out.outcome;
  }

  async learnerByToken(token: string): Promise<Learner | undefined> {
    const r = this.#q("SELECT l.* FROM tokens t JOIN learners l ON l.id = t.learner_id WHERE t.hash = ? AND l.state = 'active'").get(tokenHash(token)) as LearnerRow | undefined;
    return r ? toLearner(r) : undefined;
  }

  async insertReport(token: string, report: Report, budget: StorageBudget): Promise<ReportOutcome> {
    const out = this.#tx((): { outcome: ReportOutcome; classId?: number } => {
      const l = this.#q("SELECT l.* FROM tokens t JOIN learners l ON l.id = t.learner_id WHERE t.hash = ? AND l.state = 'active'").get(tokenHash(token)) as LearnerRow | undefined;
      if (!l) return { outcome: { kind: 'unknown token' } };
      const dup = this.#q('SELECT id FROM events WHERE report_id = ?').get(report.id) as { id: number } | undefined;
      if (dup) return { outcome: { kind: 'duplicate', eventId: dup.id } };
      const body = JSON.stringify(report);
      const cost = eventCost(body);
      if (l.stored_bytes + cost > budget.learnerBytes) return { outcome: { kind: 'over budget', scope: 'learner', learner: toLearner(l), usedBytes: l.stored_bytes } };
      const cls = this.#q('SELECT stored_bytes FROM classes WHERE id = ?').get(l.class_id) as { stored_bytes: number } | undefined;
      const classBytes = cls?.stored_bytes ?? 0;
      if (classBytes + cost > budget.classBytes) return { outcome: { kind: 'over budget', scope: 'class', learner: toLearner(l), usedBytes: classBytes } };
      return { outcome: { kind: 'stored', eventId: this.#insertEvent(l.class_id, l.id, 'report', body, report.id) }, classId: l.class_id };
    });
    if (out.outcome.kind === 'stored' && out.classId !== undefined) this.#emit(out.classId, this.#event(out.outcome.eventId));
    return out.outcome;
  }

  async actOnLearner(classId: number, learnerId: number, act: 'remove' | 'free'): Promise<Learner | undefined> {
    const out = this.#tx(() => {
      const l = this.#q("SELECT * FROM learners WHERE id = ? AND class_id = ? AND state <> 'removed'").get(learnerId, classId) as LearnerRow | undefined;
      if (!l) return undefined;
      this.#q('DELETE FROM tokens WHERE learner_id = ?').run(learnerId);
      if (act === 'remove') {
        this.#q('DELETE FROM events WHERE learner_id = ?').run(learnerId);
        this.#q('UPDATE classes SET stored_bytes = max(0, stored_bytes - ?) WHERE id = ?').run(l.stored_bytes, classId);
        this.#q("UPDATE learners SET state = 'removed', stored_bytes = 0 WHERE id = ?").run(learnerId);
      } else this.#q("UPDATE learners SET state = 'freed' WHERE id = ?").run(learnerId);
      const eventId = this.#insertEvent(classId, learnerId, act === 'remove' ? 'removed' : 'freed', null, null);
      return { learner: toLearner({ ...l, state: act === 'remove' ? 'removed' : 'freed' }), eventId };
    });
    if (out) this.#emit(classId, this.#event(out.eventId));
    return out?.learner;
  }

  async recordAlert(classId: number, learnerId: number | null, alert: Alert): Promise<number> {
    const id = this.#tx(() => this.#insertEvent(classId, learnerId, 'alert', eventBody({ type: 'alert', alert }), null));
    this.#emit(classId, this.#event(id));
    return id;
  }

  async eventsAfter(classId: number, afterId: number, limit: number): Promise<ClassEvent[]> {
    const rows = this.#q(`${EVENT_SELECT} WHERE e.class_id = ? AND e.id > ? ORDER BY e.id LIMIT ?`).all(classId, afterId, limit) as unknown as EventRow[];
    return rows.map(toEvent);
  }

  async maxEventId(classId: number): Promise<number> {
    return (this.#q('SELECT coalesce(max(id), 0) AS m FROM events WHERE class_id = ?').get(classId) as { m: number }).m;
  }

  async snapshot(classId: number): Promise<ClassSnapshot> {
    return this.#tx(() => {
      const info = this.#q('SELECT * FROM classes WHERE id = ?').get(classId) as ClassRow | undefined;
      if (!info) throw new Error(`no class ${classId}`);
      const learners = (this.#q("SELECT * FROM learners WHERE class_id = ? AND state <> 'removed' ORDER BY id").all(classId) as unknown as LearnerRow[]).map(toLearner);
      const events = (this.#q(`${EVENT_SELECT} WHERE e.class_id = ? ORDER BY e.id`).all(classId) as unknown as EventRow[]).map(toEvent);
      return { info: toInfo(info), learners, events };
    });
  }

  async subscribe(classId: number, listener: (event: ClassEvent) => void): Promise<() => void> {
    let set = this.#listeners.get(classId);
    if (!set) {
      set = new Set();
      this.#listeners.set(classId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const v = fn();
    db.exec('COMMIT');
    return v;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Brings the schema to the newest version, each migration in its own transaction with its
 * version. Foreign keys are off meanwhile (a rebuilt table is dropped while others refer to it),
 * and checked before the commit.
 */
function migrate(db: DatabaseSync): void {
  const current = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) throw Object.assign(new Error(`the classroom database has schema version ${current}, and this workshop knows only up to ${MIGRATIONS.length}`), { code: 'WS_NEWER_SCHEMA' });
  db.exec('PRAGMA foreign_keys = OFF;');
  for (let v = current + 1; v <= MIGRATIONS.length; v++) {
    transaction(db, () => {
      MIGRATIONS[v - 1]?.(db);
      const broken = db.prepare('PRAGMA foreign_key_check').all();
      if (broken.length > 0) throw new Error(`migration ${v} broke ${broken.length} foreign keys`);
      db.exec(`PRAGMA user_version = ${v}`);
    });
  }
}
