// The SQLite schema, created and migrated by the store itself (store-sqlite.ts), as pg-schema.ts
// does for PostgreSQL: each migration runs once, in its own transaction, and is recorded in
// PRAGMA user_version.
import type { DatabaseSync } from 'node:sqlite';
import { learnerName } from './identity.ts';
import { eventCost } from './limits.ts';

/** Index i is the migration to version i + 1 (PRAGMA user_version). Append only. */
export const MIGRATIONS: ReadonlyArray<(db: DatabaseSync) => void> = [
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
  // 3: the instructor's acts (issue 22), messages and holds, are events of type 'act' about no
  // learner. The type's CHECK changes, so the events table is rebuilt once more.
  (db) => {
    const seq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined)?.seq ?? 0;
    db.exec(`
    CREATE TABLE events_v3 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      class_id INTEGER NOT NULL REFERENCES classes(id),
      learner_id INTEGER REFERENCES learners(id),
      type TEXT NOT NULL CHECK (type IN ('joined', 'report', 'removed', 'freed', 'alert', 'act')),
      report_id TEXT UNIQUE,
      body TEXT,
      received_at TEXT NOT NULL
    );
    INSERT INTO events_v3 (id, class_id, learner_id, type, report_id, body, received_at) SELECT id, class_id, learner_id, type, report_id, body, received_at FROM events;
    DROP TABLE events;
    ALTER TABLE events_v3 RENAME TO events;
    CREATE INDEX events_by_class ON events (class_id, id);
    CREATE INDEX events_by_learner ON events (learner_id);`);
    db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'").run(seq);
  },
];

export function transaction<T>(db: DatabaseSync, fn: () => T): T {
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
export function migrate(db: DatabaseSync): void {
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
