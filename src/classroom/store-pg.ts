// The shared store: PostgreSQL through node-postgres, for a course served by several servers.
// Everything an instance needs lives in the database (classes, learner tokens, events), so any
// instance can serve any request; live events reach the other instances through pg-fanout.ts.
// `workshop classroom serve --db postgres://…` imports this file, and only then `pg`.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { envError } from '../errors.ts';
import { PgFanout, CHANNEL, type Notified } from './pg-fanout.ts';
import { migrate } from './pg-schema.ts';
import { newJoinCode, type ClassEvent, type ClassInfo, type ClassSnapshot, type Learner, type Report, type Store } from './store.ts';

/**
 * pg_advisory_xact_lock(EVENT_LOCK, class_id) is held from before an event takes its id until
 * its commit. Two servers inserting into one class at once would otherwise commit ids 6 then 5,
 * and a reader that had just seen 6 would never ask for 5 (Last-Event-ID, the fan-out).
 */
export const EVENT_LOCK = 0x57534556; // 'WSEV'
/** Learner tokens remembered per instance; a class of thousands fits, and a full cache starts over. */
const TOKEN_CACHE = 50_000;

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
  joined_at: Date;
}
interface EventRow {
  id: string; // bigint: node-postgres returns int8 as a string
  type: string;
  learner: string;
  received_at: Date;
  body: string | null;
}

const toInfo = (r: ClassRow): ClassInfo => ({ id: r.id, name: r.name, joinCode: r.join_code, instructorToken: r.instructor_token, createdAt: r.created_at.toISOString() });
const toLearner = (r: LearnerRow): Learner => ({ id: r.id, classId: r.class_id, name: r.name, joinedAt: r.joined_at.toISOString() });
function toEvent(r: EventRow): ClassEvent {
  const base = { id: Number(r.id), learner: r.learner, receivedAt: r.received_at.toISOString() };
  if (r.type === 'report' && r.body !== null) return { ...base, type: 'report', report: JSON.parse(r.body) as Report };
  return { ...base, type: 'joined' };
}

/** As in store-sqlite.ts (not imported from there, which would load node:sqlite): SHA-256 hex. */
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

const EVENT_SELECT = 'SELECT e.id, e.type, l.name AS learner, e.received_at, e.body FROM events e JOIN learners l ON l.id = e.learner_id';

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
    const meta = JSON.parse(payload.slice(nl + 1, nl2)) as { learner?: unknown; at?: unknown };
    if (typeof meta.learner !== 'string' || typeof meta.at !== 'string') return { classId, id };
    return { classId, id, event: { id, type: 'report', learner: meta.learner, receivedAt: meta.at, report: JSON.parse(payload.slice(nl2 + 1)) as Report } };
  } catch {
    return { classId, id }; // unreadable: read it from the table
  }
}

/**
 * A report in one statement: the class's event lock, the insert (once per UUID) and the NOTIFY.
 * The lock's CTE feeds the INSERT, so the lock is taken before the id is drawn.
 */
const INSERT_REPORT = `WITH l AS (SELECT class_id, name, pg_advisory_xact_lock($1, class_id) FROM learners WHERE id = $2),
       ins AS (
         INSERT INTO events (class_id, learner_id, type, report_id, body, received_at)
         SELECT l.class_id, $2, 'report', $3, $4, date_trunc('milliseconds', now()) FROM l
         ON CONFLICT (report_id) DO NOTHING
         RETURNING id, class_id, body, received_at
       )
       SELECT ins.id, ins.class_id, pg_notify($5,
         CASE WHEN octet_length(ins.body) + octet_length(l.name) < ${NOTIFY_ROOM}
           THEN ins.class_id || ':' || ins.id || chr(10)
             || json_build_object('learner', l.name, 'at', to_char(ins.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
             || chr(10) || ins.body
           ELSE ins.class_id || ':' || ins.id END)
       FROM ins, l`;
const TOKEN_LEARNER = 'SELECT l.* FROM tokens t JOIN learners l ON l.id = t.learner_id WHERE t.hash = $1';

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
      await c.query(`EXPLAIN ${INSERT_REPORT}`, [EVENT_LOCK, 0, '', '', CHANNEL]);
      await c.query(`EXPLAIN ${TOKEN_LEARNER}`, ['']);
    }),
  );
  for (const c of warm) c.release();
  return new PgStore(url, pool, opts.pollMs);
}

export class PgStore implements Store {
  readonly #pool: pg.Pool;
  readonly #fanout: PgFanout;
  readonly #tokens = new Map<string, Learner>();

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
      maxEventId: async (c) => Number((await pool.query<{ m: string }>('SELECT coalesce(max(id), 0) AS m FROM events WHERE class_id = $1', [c])).rows[0]?.m ?? 0),
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

  /** Takes the class's event lock, inserts the event row and queues its NOTIFY for the commit. */
  async #event(c: pg.PoolClient, classId: number, learnerId: number, report: Report | undefined): Promise<number | undefined> {
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [EVENT_LOCK, classId]);
    const r = await c.query<{ id: string }>(
      `INSERT INTO events (class_id, learner_id, type, report_id, body, received_at) VALUES ($1, $2, $3, $4, $5, date_trunc('milliseconds', now()))
       ON CONFLICT (report_id) DO NOTHING RETURNING id`,
      [classId, learnerId, report ? 'report' : 'joined', report?.id ?? null, report ? JSON.stringify(report) : null],
    );
    const id = r.rows[0]?.id;
    if (id === undefined) return undefined;
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
        [name, newJoinCode((n) => randomBytes(n)), randomBytes(24).toString('base64url'), new Date()],
      );
    }
  }

  async join(joinCode: string, name: string): Promise<{ learner: Learner; token: string } | undefined> {
    const out = await this.#tx(async (c) => {
      const cls = (await c.query<{ id: number }>('SELECT id FROM classes WHERE join_code = $1', [joinCode])).rows[0];
      if (!cls) return undefined;
      await c.query("INSERT INTO learners (class_id, name, joined_at) VALUES ($1, $2, date_trunc('milliseconds', now())) ON CONFLICT (class_id, name) DO NOTHING", [cls.id, name]);
      const row = (await c.query<LearnerRow>('SELECT * FROM learners WHERE class_id = $1 AND name = $2', [cls.id, name])).rows[0];
      if (!row) throw new Error('learner row missing after insert');
      const token = randomBytes(24).toString('base64url');
      await c.query('INSERT INTO tokens (hash, learner_id) VALUES ($1, $2)', [tokenHash(token), row.id]);
      await this.#event(c, cls.id, row.id, undefined);
      return { learner: toLearner(row), token };
    });
    if (out) this.#fanout.poke(out.learner.classId);
    return out;
  }

  async learnerByToken(token: string): Promise<Learner | undefined> {
    // Every report asks; a token never changes its learner and is never deleted, so a found one
    // is remembered (an unknown one is not: another instance may hand it out a moment later).
    const hash = tokenHash(token);
    const known = this.#tokens.get(hash);
    if (known) return known;
    const r = await this.#query<LearnerRow>(TOKEN_LEARNER, [hash], 'ws_learner_by_token');
    const row = r.rows[0];
    if (!row) return undefined;
    if (this.#tokens.size >= TOKEN_CACHE) this.#tokens.clear();
    const learner = toLearner(row);
    this.#tokens.set(hash, learner);
    return learner;
  }

  async insertReport(learnerId: number, report: Report): Promise<{ stored: boolean; eventId: number }> {
    // One statement, so one round trip and its own transaction: the event lock is held only for
    // the insert and the commit, which is what bounds the reports per second of one class.
    // The lock's CTE feeds the INSERT, so the lock is taken before the id is drawn. The NOTIFY
    // carries the whole event when it fits (see encodeNotify), so the other servers need not
    // read it back.
    const r = await this.#query<{ id: string; class_id: number }>(
      INSERT_REPORT,
      [EVENT_LOCK, learnerId, report.id, JSON.stringify(report), CHANNEL],
      'ws_insert_report',
    );
    const row = r.rows[0];
    // No poke here: this server's own LISTEN gets the NOTIFY too, in commit order with the others'.
    if (row) return { stored: true, eventId: Number(row.id) };
    const dup = (await this.#query<{ id: string }>('SELECT id FROM events WHERE report_id = $1', [report.id])).rows[0];
    if (dup) return { stored: false, eventId: Number(dup.id) };
    throw new Error(`no learner ${learnerId}`);
  }

  async eventsAfter(classId: number, afterId: number, limit: number): Promise<ClassEvent[]> {
    const r = await this.#query<EventRow>(`${EVENT_SELECT} WHERE e.class_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3`, [classId, afterId, limit], 'ws_events_after');
    return r.rows.map(toEvent);
  }

  async snapshot(classId: number): Promise<ClassSnapshot> {
    // One snapshot of the database for the three reads, so learners and events agree.
    return this.#tx(async (c) => {
      const info = (await c.query<ClassRow>('SELECT * FROM classes WHERE id = $1', [classId])).rows[0];
      if (!info) throw new Error(`no class ${classId}`);
      const learners = (await c.query<LearnerRow>('SELECT * FROM learners WHERE class_id = $1 ORDER BY id', [classId])).rows.map(toLearner);
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
