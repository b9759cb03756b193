// What only a shared PostgreSQL store must do: two instances on one database agree on classes,
// tokens, report UUIDs and event ids; live events reach the other instance; a PostgreSQL restart
// loses no event for a subscriber that stays. The Store contract itself is store.test.ts.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS } from '../../src/classroom/pg-schema.ts';
import { decodeNotify, EVENT_LOCK, openPgStore, StoreUnavailableError, type PgStore } from '../../src/classroom/store-pg.ts';
import type { ClassEvent } from '../../src/classroom/store.ts';
import { WorkshopError } from '../../src/errors.ts';
import { report, sleep, until } from './harness.ts';
import { BIG_BUDGET, insert, joinNew } from './stores.ts';
import { freePort, skipPg, startPg, type ThrowawayPg } from './pg.ts';


describe.skipIf(skipPg())('PostgreSQL store shared by two instances', () => {
  let server: ThrowawayPg | undefined;
  let n = 0;
  const open: PgStore[] = [];
  const db = async (): Promise<string> => {
    if (!server) throw new Error('no server');
    return server.createDatabase(`ws_pg_${++n}`);
  };
  const store = async (url: string, pollMs?: number): Promise<PgStore> => {
    // pollMs far above the test's waits: delivery must come from NOTIFY and the reconnect catch-up
    const s = await openPgStore(url, { pollMs: pollMs ?? 600_000 });
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await startPg();
  });
  // Each test's instances end with it, so that pools do not pile up on the one server.
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('migrates once when four instances start at the same moment', async () => {
    const url = await db();
    const stores = await Promise.all([1, 2, 3, 4].map(() => store(url)));
    expect(stores).toHaveLength(4);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const v = await c.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version');
      expect(v.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await c.end();
    }
  });

  it('refuses a database migrated by a newer workshop, with a clear message', async () => {
    const url = await db();
    await (await store(url)).close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('INSERT INTO schema_version (version) VALUES ($1)', [MIGRATIONS.length + 1]);
    await c.end();
    const err = await openPgStore(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkshopError);
    expect(String((err as Error).message)).toMatch(new RegExp(`schema version ${MIGRATIONS.length + 1}.*only up to ${MIGRATIONS.length}`));
  });

  it('migrates a class from the first schema: learners keep their ids and tokens, names get keys, bytes are counted', async () => {
    const url = await db();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await migrate(c, MIGRATIONS.slice(0, 1));
      const cls = (await c.query<{ id: number }>("INSERT INTO classes (name, join_code, instructor_token, created_at) VALUES ('default', 'OLDCDE', 'old-instructor-token', now()) RETURNING id")).rows[0]?.id;
      // the old schema took these as three names; now two of them are one
      for (const [name, token] of [['ada', 'a'.repeat(32)], ['Ada', 'b'.repeat(32)], [' bob  x', 'c'.repeat(32)]] as const) {
        const l = (await c.query<{ id: number }>('INSERT INTO learners (class_id, name, joined_at) VALUES ($1, $2, now()) RETURNING id', [cls, name])).rows[0]?.id;
        await c.query('INSERT INTO tokens (hash, learner_id) VALUES ($1, $2)', [createHash('sha256').update(token).digest('hex'), l]);
        await c.query("INSERT INTO events (class_id, learner_id, type, received_at) VALUES ($1, $2, 'joined', now())", [cls, l]);
      }
    } finally {
      await c.end();
    }
    const s = await store(url);
    const info = await s.openClass('default');
    expect(info.joinCode).toBe('OLDCDE');
    expect((await s.snapshot(info.id)).learners.map((l) => [l.name, l.nameKey])).toEqual([['ada', 'ada'], ['Ada', `ada#${(await s.learnerByToken('b'.repeat(32)))?.id}`], [' bob  x', 'bob x']]);
    expect(await s.join(info.joinCode, { display: 'ADA', key: 'ada' }, undefined, BIG_BUDGET)).toMatchObject({ kind: 'name taken', learner: { name: 'ada' } });
    expect(await s.join(info.joinCode, { display: 'bob x', key: 'bob x' }, 'c'.repeat(32), BIG_BUDGET)).toMatchObject({ kind: 'joined', how: 'rejoined' });
    const r = await insert(s, 'b'.repeat(32), report());
    expect(r.stored).toBe(true);
    expect(await s.insertReport('a'.repeat(32), report(), { learnerBytes: 300, classBytes: 2 ** 40 })).toMatchObject({ kind: 'over budget', scope: 'learner' });
  });

  it('says which server it cannot reach, without the password', async () => {
    const port = await freePort();
    const err = await openPgStore(`postgres://ada:s3cret@127.0.0.1:${port}/class`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkshopError);
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as Error).message).toContain(`cannot reach PostgreSQL at postgres://ada:…@127.0.0.1:${port}/class`);
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('serves the same class, join code, instructor token and learner tokens from both instances', async () => {
    const url = await db();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const [ia, ib] = await Promise.all([a.openClass('default'), b.openClass('default')]);
    expect(ib).toEqual(ia);
    const j = await joinNew(a, ia.joinCode, 'ada');
    expect((await b.learnerByToken(j?.token ?? ''))?.name).toBe('ada');
    const again = await b.join(ib.joinCode, { display: 'Ada', key: 'ada' }, j.token, BIG_BUDGET);
    expect(again).toMatchObject({ kind: 'joined', how: 'rejoined', learner: { id: j.learner.id }, token: j.token });
  });

  it('gives a new name to one learner when two instances take it at the same moment', async () => {
    const url = await db();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const info = await a.openClass('default');
    for (let i = 0; i < 10; i++) {
      const name = { display: `Ada ${i}`, key: `ada ${i}` };
      const outs = await Promise.all([a.join(info.joinCode, name, undefined, BIG_BUDGET), b.join(info.joinCode, name, undefined, BIG_BUDGET)]);
      expect(outs.map((o) => o.kind).sort()).toEqual(['joined', 'name taken']);
    }
    expect((await a.snapshot(info.id)).learners).toHaveLength(10);
  });

  it('stores a UUID once when both instances receive it at the same moment', async () => {
    const url = await db();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const info = await a.openClass('default');
    const j = await joinNew(a, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    for (let i = 0; i < 20; i++) {
      const r = report({ attempts: i });
      const [x, y] = await Promise.all([insert(a, j.token, r), insert(b, j.token, r)]);
      expect([x.stored, y.stored].sort()).toEqual([false, true]);
      expect(x.eventId).toBe(y.eventId);
    }
    expect((await b.snapshot(info.id)).events.filter((e) => e.type === 'report')).toHaveLength(20);
  });

  it("delivers a report posted to A to B's subscriber within a second, and concurrent posts in id order with none missing", async () => {
    const url = await db();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const info = await a.openClass('default');
    const seen: ClassEvent[] = [];
    await b.subscribe(info.id, (e) => seen.push(e));
    const j = await joinNew(a, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const t0 = performance.now();
    const first = await insert(a, j.token, report());
    await until('the event on B', () => seen.some((e) => e.id === first.eventId), 1000);
    const latency = performance.now() - t0;
    expect(latency).toBeLessThan(1000);
    // 600 reports at once through four instances: B's subscriber must see every one, in order.
    const [c, d] = await Promise.all([store(url), store(url)]);
    const via = [a, b, c, d];
    await Promise.all(Array.from({ length: 600 }, (_, i) => insert(via[i % 4] ?? a, j.token, report({ attempts: i }))));
    const all = (await a.eventsAfter(info.id, 0, 10_000)).map((e) => e.id);
    await until('all 602 events on B', () => seen.length >= all.length);
    expect(seen.map((e) => e.id)).toEqual(all);
  });

  it("holds a class's event lock until the event commits, so that ids become visible in order", async () => {
    const url = await db();
    const a = await store(url);
    const info = await a.openClass('default');
    const j = await joinNew(a, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1, $2)', [EVENT_LOCK, info.id]);
      let done = false;
      const pending = insert(a, j.token, report()).then((r) => ((done = true), r));
      await sleep(300);
      expect(done).toBe(false);
      await other.query('SELECT pg_advisory_unlock($1, $2)', [EVENT_LOCK, info.id]);
      expect((await pending).stored).toBe(true);
    } finally {
      await other.end();
    }
  });

  it('delivers the same event whether it came whole in the NOTIFY or, too big for one, from the table', async () => {
    const url = await db();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const info = await a.openClass('default');
    const j = await joinNew(a, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const seen: ClassEvent[] = [];
    await b.subscribe(info.id, (e) => seen.push(e));
    const small = report();
    const big = report({ rows: Array.from({ length: 50 }, (_, i) => ({ check: `check ${i} ✔ "quoted"`, status: 'fail' as const, expected: 'e'.repeat(400), actual: 'a'.repeat(400), hint: 'h'.repeat(400) })) });
    expect(JSON.stringify(big).length).toBeGreaterThan(8000);
    const ids = [(await insert(a, j.token, small)).eventId, (await insert(a, j.token, big)).eventId, (await insert(a, j.token, report())).eventId];
    await until('three events on B', () => seen.length >= 3);
    expect(seen.map((e) => e.id)).toEqual(ids);
    expect(seen).toEqual(await a.eventsAfter(info.id, (ids[0] ?? 1) - 1, 10));
    expect(seen[1]?.type === 'report' ? seen[1].report : undefined).toEqual(big);
  });

  it('reads notifications it does not understand as "look in the table"', () => {
    expect(decodeNotify('nonsense')).toBeUndefined();
    expect(decodeNotify('3:41')).toEqual({ classId: 3, id: 41 });
    expect(decodeNotify('3:41\n{broken\n{}')).toEqual({ classId: 3, id: 41 });
    expect(decodeNotify('3:41\n{"learner":"ada","at":"2026-12-01T23:00:00.000Z"}\n{"id":"x"}')).toEqual({ classId: 3, id: 41 });
    expect(decodeNotify('3:41\n{"learner":"ada","learnerId":7,"at":"2026-12-01T23:00:00.000Z"}\n{"id":"x"}')).toMatchObject({ classId: 3, id: 41, event: { id: 41, type: 'report', learnerId: 7, learner: 'ada', report: { id: 'x' } } });
  });

  it('keeps delivering to a subscriber across PostgreSQL restarts, including what committed while it was reconnecting', async () => {
    if (!server) throw new Error('no server');
    const url = await db();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const info = await a.openClass('default');
    const j = await joinNew(a, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const seen: ClassEvent[] = [];
    await b.subscribe(info.id, (e) => seen.push(e));
    const posted: number[] = [];
    for (const mode of ['fast', 'immediate'] as const) {
      posted.push((await insert(a, j.token, report())).eventId);
      await server.restart(mode);
      // The first queries after a restart may meet a connection the pool has not yet dropped.
      for (let i = 0; i < 5; i++) {
        for (let tries = 0; ; tries++) {
          try {
            posted.push((await insert(a, j.token, report())).eventId);
            break;
          } catch (err) {
            if (tries > 20) throw err;
            await sleep(100);
          }
        }
      }
    }
    await until('every posted event on B', () => posted.every((id) => seen.some((e) => e.id === id)), 10_000);
    const all = (await a.eventsAfter(info.id, 0, 10_000)).filter((e) => e.type === 'report').map((e) => e.id);
    expect(all).toEqual(posted);
    expect(seen.map((e) => e.id)).toEqual(posted);
  });

  it('answers "unavailable" (503) while PostgreSQL is down, and works again once it is back', async () => {
    if (!server) throw new Error('no server');
    const url = await db();
    const a = await store(url);
    const info = await a.openClass('default');
    const j = await joinNew(a, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    await server.stop('fast');
    try {
      const err = await a.insertReport(j.token, report(), BIG_BUDGET).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).statusCode).toBe(503);
      expect(await a.learnerByToken(j.token).catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await server.start();
    }
    expect((await insert(a, j.token, report())).stored).toBe(true);
  });
});
