// The shared store: PostgreSQL through node-postgres, for a course served by several servers.
// Everything an instance needs lives in the database (classes, learner tokens, events), so any
// instance can serve any request; live events reach the other instances through pg-fanout.ts.
// `workshop classroom serve --db postgres://…` imports this file, and only then `pg`.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { envError } from '../errors.ts';
import { PgFanout, CHANNEL, type Notified } from './pg-fanout.ts';
import { migrate } from './pg-schema.ts';
import { newToken, type LearnerName, type LearnerState } from './identity.ts';
import { eventCost, JOIN_ROOM_BYTES, type StorageBudget } from './limits.ts';
import { eventBody, eventOf, newJoinCode, type Alert, type ClassEvent, type ClassInfo, type ClassSnapshot, type InstructorAct, type JoinHow, type JoinOutcome, type Learner, type Report, type ReportOutcome, type Store } from './store.ts';

/**
 * pg_advisory_xact_lock(EVENT_LOCK, class_id) is held from before an event takes its id until
 * its commit. Two servers inserting into one class at once would otherwise commit ids 6 then 5,
 * and a reader that had just seen 6 would never ask for 5 (Last-Event-ID, the fan-out).
 */
export const EVENT_LOCK = 0x57534556; // 'WSEV'

interface ClassRow {
  id: number;
  name: string;
  join_code: string;
  instructor_token: string;
  created_at: Date;
}
interface LearnerRow {
  id: number;
  class_id: number;
  name: string;
  name_key: string;
  state: LearnerState;
  stored_bytes: string; // bigint
  joined_at: Date;
}
interface EventRow {
  id: string; // bigint: node-postgres returns int8 as a string
  type: string;
  learner_id: number | null;
  learner: string | null;
  received_at: Date;
  body: string | null;
}

const toInfo = (r: ClassRow): ClassInfo => ({ id: r.id, name: r.name, joinCode: r.join_code, instructorToken: r.instructor_token, createdAt: r.created_at.toISOString() });
const toLearner = (r: LearnerRow): Learner => ({ id: r.id, classId: r.class_id, name: r.name, nameKey: r.name_key, state: r.state, joinedAt: r.joined_at.toISOString() });
const toEvent = (r: EventRow): ClassEvent => eventOf({ id: Number(r.id), type: r.type, learnerId: r.learner_id, learner: r.learner, receivedAt: r.received_at.toISOString(), body: r.body });

/** As in store-sqlite.ts (not imported from there, which would load node:sqlite): SHA-256 hex. */
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

const EVENT_SELECT = 'SELECT e.id, e.type, e.learner_id, l.name AS learner, e.received_at, e.body FROM events e LEFT JOIN learners l ON l.id = e.learner_id';

/**
 * PostgreSQL cannot be reached right now (restarting, network): the server answers 503, and the
 * learner's reporter keeps the report queued and sends it again later.
 */
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(cause: unknown) {
    super(`the class database is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** A lost or refused connection, as opposed to an error in the SQL (which is a bug: 500). */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // SQLSTATE class 08 (connection exception) and 57P01-03 (admin/crash shutdown, starting up).
  if (err instanceof pg.DatabaseError) return typeof code === 'string' && (code.startsWith('08') || /^57P0[123]$/.test(code));
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test(code)) return true;
  // node-postgres's own words for a dropped socket and a pool that could not connect in time
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed/i.test(err.message);
}

async function guarded<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw isConnectionError(err) ? new StoreUnavailableError(err) : err;
  }
}

/**
 * A NOTIFY payload must stay under 8000 bytes. A report that fits travels whole:
 * `class:id\n{"learner","at"}\nbody`; a bigger one (up to 64 KiB) sends `class:id` only, and the
 * listeners read it from the table.
 */
const NOTIFY_ROOM = 7600;

export function decodeNotify(payload: string): Notified | undefined {
  const nl = payload.indexOf('\n');
  const head = /^(\d+):(\d+)$/.exec(nl < 0 ? payload : payload.slice(0, nl));
  if (!head) return undefined;
  const classId = Number(head[1]);
  const id = Number(head[2]);
  if (nl < 0) return { classId, id };
  const nl2 = payload.indexOf('\n', nl + 1);
  if (nl2 < 0) return { classId, id };
  try {
    const meta = JSON.parse(payload.slice(nl + 1, nl2)) as { learner?: unknown; learnerId?: unknown; at?: unknown };
    if (typeof meta.learner !== 'string' || typeof meta.learnerId !== 'number' || typeof meta.at !== 'string') return { classId, id };
    return { classId, id, event: { id, type: 'report', learnerId: meta.learnerId, learner: meta.learner, receivedAt: meta.at, report: JSON.parse(payload.slice(nl2 + 1)) as Report } };
  } catch {
    return { classId, id }; // unreadable: read it from the table
  }
}

/**
 * A report in one statement: the token's learner (active), the class's event lock, the budgets,
 * the insert (once per UUID), the byte counters and the NOTIFY. The lock's CTE feeds the INSERT,
 * so the lock is taken before the id is drawn. The budgets are read in the statement's snapshot,
 * taken before the lock: reports of one class that commit at once may pass them by their size.
 * $1 lock, $2 token hash, $3 report id, $4 body, $5 channel, $6 cost, $7 learner budget, $8 class budget.
 */
const INSERT_REPORT = `WITH l AS (
         SELECT l.id, l.class_id, l.name, l.stored_bytes, c.stored_bytes AS class_bytes, pg_advisory_xact_lock($1, l.class_id)
         FROM tokens t JOIN learners l ON l.id = t.learner_id JOIN classes c ON c.id = l.class_id
         WHERE t.hash = $2 AND l.state = 'active'),
       ins AS (
         INSERT INTO events (class_id, learner_id, type, report_id, body, received_at)
         SELECT l.class_id, l.id, 'report', $3, $4, date_trunc('milliseconds', now()) FROM l
         WHERE l.stored_bytes + $6 <= $7 AND l.class_bytes + $6 <= $8
         ON CONFLICT (report_id) DO NOTHING
         RETURNING id, class_id, learner_id, body, received_at
       ),
       ul AS (UPDATE learners SET stored_bytes = learners.stored_bytes + $6 FROM ins WHERE learners.id = ins.learner_id),
       uc AS (UPDATE classes SET stored_bytes = classes.stored_bytes + $6 FROM ins WHERE classes.id = ins.class_id)
       SELECT ins.id, ins.class_id, pg_notify($5,
         CASE WHEN octet_length(ins.body) + octet_length(l.name) < ${NOTIFY_ROOM}
           THEN ins.class_id || ':' || ins.id || chr(10)
             || json_build_object('learner', l.name, 'learnerId', l.id, 'at', to_char(ins.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
             || chr(10) || ins.body
           ELSE ins.class_id || ':' || ins.id END)
       FROM ins, l`;
const TOKEN_LEARNER = "SELECT l.* FROM tokens t JOIN learners l ON l.id = t.learner_id WHERE t.hash = $1 AND l.state = 'active'";

/** The URL without its password, for messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:…@');

/** Connects, migrates the schema (under an advisory lock) and returns the store. */
export async function openPgStore(url: string, opts: { poolSize?: number; pollMs?: number } = {}): Promise<PgStore> {
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, keepAlive: true, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  // An idle connection that PostgreSQL closes (a restart) is dropped from the pool, which opens a
  // new one on the next query; without a listener the 'error' would end the process.
  pool.on('error', () => undefined);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => undefined);
    const why = err instanceof Error ? err.message : String(err);
    throw envError(`cannot reach PostgreSQL at ${redactUrl(url)}: ${why}`, 'is the server running, and does the database exist? (createdb NAME)');
  }
  try {
    await migrate(client);
  } catch (err) {
    client.release(true);
    await pool.end().catch(() => undefined);
    throw err;
  }
  client.release();
  // Open a few connections now, so that the first learners' reports do not wait for PostgreSQL
  // to start backends (measured: the first reports of a class took 100-500 ms instead of ~5).
  // EXPLAIN (which runs nothing) of the hot statements loads each backend's catalog caches too.
  const warm = await Promise.all(Array.from({ length: Math.min(5, opts.poolSize ?? 10) }, () => pool.connect()));
  await Promise.all(
    warm.map(async (c) => {
      await c.query(`EXPLAIN ${INSERT_REPORT}`, [EVENT_LOCK, '', '', '', CHANNEL, 0, 0, 0]);
      await c.query(`EXPLAIN ${TOKEN_LEARNER}`, ['']);
    }),
  );
  for (const c of warm) c.release();
  return new PgStore(url, pool, opts.pollMs);
}

export class PgStore implements Store {
  readonly #pool: pg.Pool;
  readonly #fanout: PgFanout;

  /**
   * One statement outside a transaction. With a `name`, it is a prepared statement (parsed and
   * planned once per connection): the ones that run for every report are.
   */
  #query<R extends pg.QueryResultRow>(sql: string, values: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    return guarded(this.#pool.query<R>(name === undefined ? { text: sql, values } : { name, text: sql, values }));
  }

  constructor(url: string, pool: pg.Pool, pollMs?: number) {
    this.#pool = pool;
    this.#fanout = new PgFanout({
      url,
      eventsAfter: (c, a, l) => this.eventsAfter(c, a, l),
      decode: decodeNotify,
      maxEventId: (c) => this.maxEventId(c),
      ...(pollMs !== undefined ? { pollMs } : {}),
    });
  }

  /** One transaction on one pooled connection; a broken connection is destroyed, not reused. */
  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>, isolation = ''): Promise<T> {
    return guarded(this.#txRaw(fn, isolation));
  }

  async #txRaw<T>(fn: (c: pg.PoolClient) => Promise<T>, isolation: string): Promise<T> {
    const c = await this.#pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors of idle connections only: a connection that PostgreSQL drops
    // between two statements of ours would otherwise raise an unhandled 'error' and end the server.
    const dropped = (err: Error): void => {
      broken = err;
    };
    c.on('error', dropped);
    try {
      await c.query(`BEGIN${isolation}`);
      const v = await fn(c);
      await c.query('COMMIT');
      return v;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      await c.query('ROLLBACK').then(
        () => (broken = undefined), // the connection is fine; only the transaction failed
        () => undefined,
      );
      throw err;
    } finally {
      c.off('error', dropped);
      c.release(broken);
    }
  }

  /**
   * Takes the class's event lock, inserts the event row, counts a join's bytes, and queues the
   * NOTIFY for the commit.
   */
  async #event(c: pg.PoolClient, classId: number, learnerId: number | null, type: ClassEvent['type'], body: string | null): Promise<number> {
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [EVENT_LOCK, classId]);
    const r = await c.query<{ id: string }>(
      "INSERT INTO events (class_id, learner_id, type, body, received_at) VALUES ($1, $2, $3, $4, date_trunc('milliseconds', now())) RETURNING id",
      [classId, learnerId, type, body],
    );
    const id = r.rows[0]?.id;
    if (id === undefined) throw new Error('an event insert returned no id');
    if (type === 'joined' && learnerId !== null) {
      const cost = eventCost(body);
      await c.query('UPDATE learners SET stored_bytes = stored_bytes + $1 WHERE id = $2', [cost, learnerId]);
      await c.query('UPDATE classes SET stored_bytes = stored_bytes + $1 WHERE id = $2', [cost, classId]);
    }
    await c.query('SELECT pg_notify($1, $2)', [CHANNEL, `${classId}:${id}`]);
    return Number(id);
  }

  async openClass(name: string): Promise<ClassInfo> {
    for (;;) {
      const found = await this.#query<ClassRow>('SELECT * FROM classes WHERE name = $1', [name]);
      const row = found.rows[0];
      if (row) return toInfo(row);
      // Two servers may open the class at once: one insert wins, and both then read the winner.
      // A join code that another class already has also inserts nothing; the loop draws again.
      await this.#query(
        'INSERT INTO classes (name, join_code, instructor_token, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [name, newJoinCode((n) => randomBytes(n)), newToken((n) => randomBytes(n)), new Date()],
      );
    }
  }

  async join(joinCode: string, name: LearnerName, presented: string | undefined, budget: StorageBudget): Promise<JoinOutcome> {
    // Two servers that add the same new name at once: the unique name key refuses the second
    // insert, and its second try finds the name taken.
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.#tx((c) => this.#join(c, joinCode, name, presented, budget));
        if (out.kind === 'joined') this.#fanout.poke(out.learner.classId);
        return out;
      } catch (err) {
        if (attempt >= 2 || (err as { code?: unknown }).code !== '23505') throw err;
      }
    }
  }

  async #join(c: pg.PoolClient, joinCode: string, name: LearnerName, presented: string | undefined, budget: StorageBudget): Promise<JoinOutcome> {
    const cls = (await c.query<{ id: number; stored_bytes: string }>('SELECT id, stored_bytes FROM classes WHERE join_code = $1', [joinCode])).rows[0];
    if (!cls) return { kind: 'unknown code' };
    const held = (await c.query<LearnerRow>("SELECT * FROM learners WHERE class_id = $1 AND name_key = $2 AND state <> 'removed' FOR UPDATE", [cls.id, name.key])).rows[0];
    let how: JoinHow;
    let row: LearnerRow;
    let token: string;
    if (held && held.state === 'active') {
      const own = presented !== undefined && (await c.query('SELECT 1 FROM tokens WHERE hash = $1 AND learner_id = $2', [tokenHash(presented), held.id])).rows.length > 0;
      if (!own || presented === undefined) return { kind: 'name taken', learner: toLearner(held) };
      how = 'rejoined';
      row = held;
      token = presented;
    } else {
      if (!held && Number(cls.stored_bytes) + JOIN_ROOM_BYTES > budget.classBytes) return { kind: 'over budget', usedBytes: Number(cls.stored_bytes) };
      token = newToken((n) => randomBytes(n));
      if (held) {
        how = 'claimed';
        await c.query("UPDATE learners SET state = 'active' WHERE id = $1", [held.id]);
        row = { ...held, state: 'active' };
      } else {
        how = 'new';
        const ins = await c.query<LearnerRow>("INSERT INTO learners (class_id, name, name_key, joined_at) VALUES ($1, $2, $3, date_trunc('milliseconds', now())) RETURNING *", [cls.id, name.display, name.key]);
        const r = ins.rows[0];
        if (!r) throw new Error('learner row missing after insert');
        row = r;
      }
      await c.query('INSERT INTO tokens (hash, learner_id) VALUES ($1, $2)', [tokenHash(token), row.id]);
    }
    await this.#event(c, cls.id, row.id, 'joined', eventBody({ type: 'joined', how }));
    return { kind: 'joined', how, learner: toLearner(row), token };
  }

  async learnerByToken(token: string): Promise<Learner | undefined> {
    const r = await this.#query<LearnerRow>(TOKEN_LEARNER, [tokenHash(token)], 'ws_learner_by_token');
    const row = r.rows[0];
    return row ? toLearner(row) : undefined;
  }

  async insertReport(token: string, report: Report, budget: StorageBudget): Promise<ReportOutcome> {
    // One statement, so one round trip and its own transaction: the event lock is held only for
    // the insert and the commit, which is what bounds the reports per second of one class.
    // The NOTIFY carries the whole event when it fits (see decodeNotify), so the other servers
    // need not read it back. No poke here: this server's own LISTEN gets the NOTIFY too, in
    // commit order with the others'.
    const body = JSON.stringify(report);
    const cost = eventCost(body);
    const hash = tokenHash(token);
    const r = await this.#query<{ id: string; class_id: number }>(INSERT_REPORT, [EVENT_LOCK, hash, report.id, body, CHANNEL, cost, budget.learnerBytes, budget.classBytes], 'ws_insert_report');
    const row = r.rows[0];
    if (row) return { kind: 'stored', eventId: Number(row.id) };
    // Nothing inserted: find out why, in the order the SQLite store checks.
    const l = (await this.#query<LearnerRow & { class_bytes: string }>(`SELECT l.*, c.stored_bytes AS class_bytes FROM tokens t JOIN learners l ON l.id = t.learner_id JOIN classes c ON c.id = l.class_id WHERE t.hash = $1 AND l.state = 'active'`, [hash])).rows[0];
    if (!l) return { kind: 'unknown token' };
    const dup = (await this.#query<{ id: string }>('SELECT id FROM events WHERE report_id = $1', [report.id])).rows[0];
    if (dup) return { kind: 'duplicate', eventId: Number(dup.id) };
    if (Number(l.stored_bytes) + cost > budget.learnerBytes) return { kind: 'over budget', scope: 'learner', learner: toLearner(l), usedBytes: Number(l.stored_bytes) };
    if (Number(l.class_bytes) + cost > budget.classBytes) return { kind: 'over budget', scope: 'class', learner: toLearner(l), usedBytes: Number(l.class_bytes) };
    // a budget that was full in the statement's snapshot and not any more (a remove just committed)
    throw new StoreUnavailableError(new Error('the report was neither stored nor refused: try again'));
  }

  async actOnLearner(classId: number, learnerId: number, act: 'remove' | 'free'): Promise<Learner | undefined> {
    const out = await this.#tx(async (c) => {
      const l = (await c.query<LearnerRow>("SELECT * FROM learners WHERE id = $1 AND class_id = $2 AND state <> 'removed' FOR UPDATE", [learnerId, classId])).rows[0];
      if (!l) return undefined;
      await c.query('DELETE FROM tokens WHERE learner_id = $1', [learnerId]);
      const state: LearnerState = act === 'remove' ? 'removed' : 'freed';
      if (act === 'remove') {
        // under the event lock, so that no report of theirs commits between the delete and the state
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [EVENT_LOCK, classId]);
        await c.query('DELETE FROM events WHERE learner_id = $1', [learnerId]);
        await c.query('UPDATE classes SET stored_bytes = greatest(0, stored_bytes - $1) WHERE id = $2', [l.stored_bytes, classId]);
        await c.query("UPDATE learners SET state = 'removed', stored_bytes = 0 WHERE id = $1", [learnerId]);
      } else await c.query("UPDATE learners SET state = 'freed' WHERE id = $1", [learnerId]);
      await this.#event(c, classId, learnerId, state, null);
      return toLearner({ ...l, state });
    });
    if (out) this.#fanout.poke(classId);
    return out;
  }

  async recordAlert(classId: number, learnerId: number | null, alert: Alert): Promise<number> {
    const id = await this.#tx((c) => this.#event(c, classId, learnerId, 'alert', eventBody({ type: 'alert', alert })));
    this.#fanout.poke(classId);
    return id;
  }

  async recordAct(classId: number, act: InstructorAct): Promise<number> {
    const id = await this.#tx((c) => this.#event(c, classId, null, 'act', eventBody({ type: 'act', act })));
    this.#fanout.poke(classId);
    return id;
  }

  async eventsAfter(classId: number, afterId: number, limit: number): Promise<ClassEvent[]> {
    const r = await this.#query<EventRow>(`${EVENT_SELECT} WHERE e.class_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3`, [classId, afterId, limit], 'ws_events_after');
    return r.rows.map(toEvent);
  }

  async maxEventId(classId: number): Promise<number> {
    return Number((await this.#query<{ m: string }>('SELECT coalesce(max(id), 0) AS m FROM events WHERE class_id = $1', [classId])).rows[0]?.m ?? 0);
  }

  async snapshot(classId: number): Promise<ClassSnapshot> {
    // One snapshot of the database for the three reads, so learners and events agree.
    return this.#tx(async (c) => {
      const info = (await c.query<ClassRow>('SELECT * FROM classes WHERE id = $1', [classId])).rows[0];
      if (!info) throw new Error(`no class ${classId}`);
      const learners = (await c.query<LearnerRow>("SELECT * FROM learners WHERE class_id = $1 AND state <> 'removed' ORDER BY id", [classId])).rows.map(toLearner);
      const events = (await c.query<EventRow>(`${EVENT_SELECT} WHERE e.class_id = $1 ORDER BY e.id`, [classId])).rows.map(toEvent);
      return { info: toInfo(info), learners, events };
    }, ' ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async subscribe(classId: number, listener: (event: ClassEvent) => void): Promise<() => void> {
    return guarded(this.#fanout.subscribe(classId, listener));
  }

  async close(): Promise<void> {
    await this.#fanout.close();
    await this.#pool.end();
  }
}
