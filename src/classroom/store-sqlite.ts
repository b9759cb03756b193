// The embedded store: Node 24's built-in node:sqlite, in WAL mode, one file (by default
// WORKSHOP_HOME/classroom.db). DatabaseSync is synchronous, so each method is one transaction
// that no other request can interleave with; the async signatures are for the Store interface.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { newToken, type LearnerName, type LearnerState } from './identity.ts';
import { eventCost, JOIN_ROOM_BYTES, type StorageBudget } from './limits.ts';
import { migrate, transaction } from './sqlite-schema.ts';
import { sqliteProblem } from './sqlite-file.ts';
import {
  eventBody,
  eventOf,
  newJoinCode,
  type Alert,
  type InstructorAct,
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

  async recordAct(classId: number, act: InstructorAct): Promise<number> {
    const id = this.#tx(() => this.#insertEvent(classId, null, 'act', eventBody({ type: 'act', act }), null));
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
