// The PostgreSQL schema, created and migrated by the server itself. Each migration runs once, in
// its own transaction, and is recorded in schema_version. Two servers that start at once take the
// same session-level advisory lock first, so the second waits and then finds nothing to do.
import type pg from 'pg';
import { envError } from '../errors.ts';

/** pg_advisory_lock key of the migration ('WSMG'); any constant that no other tool uses. */
const MIGRATION_LOCK = 0x57534d47;

/** Index i is the migration to version i + 1. Append only: a released migration never changes. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE classes (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    join_code text NOT NULL UNIQUE,
    instructor_token text NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE learners (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id integer NOT NULL REFERENCES classes(id),
    name text NOT NULL,
    joined_at timestamptz NOT NULL,
    UNIQUE (class_id, name)
  );
  -- SHA-256 of each learner token: every instance accepts every token, and a dump hands out none.
  CREATE TABLE tokens (
    hash text PRIMARY KEY,
    learner_id integer NOT NULL REFERENCES learners(id)
  );
  -- One sequence for every instance: the id is the SSE event id, so Last-Event-ID replays on any
  -- server. report_id is the learner's UUID; UNIQUE stores it once whichever server receives it.
  -- body is text, not jsonb: jsonb rejects \\u0000 and reorders keys, and the body is only ever
  -- read back whole.
  CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id integer NOT NULL REFERENCES classes(id),
    learner_id integer NOT NULL REFERENCES learners(id),
    type text NOT NULL CHECK (type IN ('joined', 'report')),
    report_id text UNIQUE,
    body text,
    received_at timestamptz NOT NULL
  );
  CREATE INDEX events_by_class ON events (class_id, id);
  `,
  // 2: learner identity (name keys, states) and storage budgets (byte counters). The name key of
  // an older learner is worked out as identity.ts does it for the names the old schema allowed
  // (ASCII: lower case, trimmed, one space between words); two that now count as one name keep
  // apart, the later one's key getting its id.
  `
  ALTER TABLE learners ADD COLUMN name_key text;
  ALTER TABLE learners ADD COLUMN state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'freed', 'removed'));
  ALTER TABLE learners ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;
  UPDATE learners SET name_key = lower(btrim(regexp_replace(name, '[[:space:]]+', ' ', 'g')));
  UPDATE learners l SET name_key = l.name_key || '#' || l.id
    FROM (SELECT id, row_number() OVER (PARTITION BY class_id, name_key ORDER BY id) AS n FROM learners) d
    WHERE d.id = l.id AND d.n > 1;
  ALTER TABLE learners ALTER COLUMN name_key SET NOT NULL;
  ALTER TABLE learners DROP CONSTRAINT learners_class_id_name_key;
  CREATE UNIQUE INDEX learners_by_name_key ON learners (class_id, name_key) WHERE state <> 'removed';
  CREATE INDEX tokens_by_learner ON tokens (learner_id);
  CREATE INDEX events_by_learner ON events (learner_id);
  ALTER TABLE events DROP CONSTRAINT events_type_check;
  ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN ('joined', 'report', 'removed', 'freed', 'alert'));
  -- an alert about the whole class is about no learner
  ALTER TABLE events ALTER COLUMN learner_id DROP NOT NULL;
  ALTER TABLE classes ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;
  -- 256: EVENT_OVERHEAD_BYTES of limits.ts
  UPDATE learners l SET stored_bytes = coalesce((SELECT sum(256 + coalesce(octet_length(e.body), 0)) FROM events e WHERE e.learner_id = l.id), 0);
  UPDATE classes c SET stored_bytes = coalesce((SELECT sum(256 + coalesce(octet_length(e.body), 0)) FROM events e WHERE e.class_id = c.id), 0);
  `,
  // 3: the instructor's acts (issue 22), messages and holds, are events of type 'act' about no learner
  `
  ALTER TABLE events DROP CONSTRAINT events_type_check;
  ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN ('joined', 'report', 'removed', 'freed', 'alert', 'act'));
  `,
];

export async function migrate(client: pg.ClientBase, migrations: readonly string[] = MIGRATIONS): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
    const current = r.rows[0]?.v ?? 0;
    if (current > migrations.length) {
      throw envError(
        `the classroom database has schema version ${current}, and this workshop knows only up to ${migrations.length}`,
        'a newer workshop has migrated it: upgrade workshop on this server too',
      );
    }
    for (let v = current + 1; v <= migrations.length; v++) {
      await client.query('BEGIN');
      try {
        await client.query(migrations[v - 1] ?? '');
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [v]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return migrations.length;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
