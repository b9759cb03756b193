// The Store contract, run unchanged against every implementation in stores.ts.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassEvent, Store } from '../../src/classroom/store.ts';
import { learnerName } from '../../src/classroom/identity.ts';
import { SqliteStore } from '../../src/classroom/store-sqlite.ts';
import { report } from './harness.ts';
import { BIG_BUDGET, insert, joinNew, STORES } from './stores.ts';


const name = (raw: string) => {
  const n = learnerName(raw);
  if (!n) throw new Error(`not a name: ${raw}`);
  return n;
};

describe.each(STORES)('store $name', (factory) => {
  afterAll(() => factory.cleanup());
  const fresh = async (): Promise<Store> => factory.open(await factory.freshDb());

  it('opens a class once: the same name gives the same code and token', async () => {
    const s = await fresh();
    const a = await s.openClass('default');
    const b = await s.openClass('default');
    expect(b).toEqual(a);
    expect(a.joinCode).toMatch(/^[A-Z2-9]{6}$/);
    expect(a.instructorToken.length).toBeGreaterThanOrEqual(32);
    const other = await s.openClass('other');
    expect(other.id).not.toBe(a.id);
    expect(other.joinCode).not.toBe(a.joinCode);
    await s.close();
  });

  it('keeps the class, learners and events across a reopen of the same database', async () => {
    const db = await factory.freshDb();
    const s = await factory.open(db);
    const info = await s.openClass('default');
    const j = await joinNew(s, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    await insert(s, j.token, report());
    await s.close();
    const t = await factory.open(db);
    expect(await t.openClass('default')).toEqual(info);
    expect((await t.learnerByToken(j.token))?.name).toBe('ada');
    expect((await t.snapshot(info.id)).events.map((e) => e.type)).toEqual(['joined', 'report']);
    await t.close();
  });

  it('exchanges a join code for a learner token, and refuses an unknown code', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    expect(await s.join('NOPE42', name('ada'), undefined, BIG_BUDGET)).toEqual({ kind: 'unknown code' });
    const j = await joinNew(s, info.joinCode, 'ada');
    expect(j.learner).toMatchObject({ name: 'ada', nameKey: 'ada', state: 'active', classId: info.id });
    expect(j.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await s.learnerByToken(j.token)).toEqual(j.learner);
    expect(await s.learnerByToken('not-a-token')).toBeUndefined();
    await s.close();
  });

  it("holds one learner per name key: a taken name is refused, unless the join carries that learner's own token", async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const ada = await joinNew(s, info.joinCode, 'Ada Lovelace');
    const bob = await joinNew(s, info.joinCode, 'bob');
    for (const raw of ['Ada Lovelace', 'ada lovelace', '  ADA   Lovelace ', 'Ａｄａ Ｌｏｖｅｌａｃｅ']) {
      expect(await s.join(info.joinCode, name(raw), undefined, BIG_BUDGET), raw).toMatchObject({ kind: 'name taken', learner: { id: ada.learner.id } });
      expect(await s.join(info.joinCode, name(raw), bob.token, BIG_BUDGET), `${raw} with bob's token`).toMatchObject({ kind: 'name taken' });
    }
    const again = await s.join(info.joinCode, name('ada lovelace'), ada.token, BIG_BUDGET);
    expect(again).toEqual({ kind: 'joined', how: 'rejoined', learner: ada.learner, token: ada.token });
    expect((await s.snapshot(info.id)).learners.map((l) => l.name)).toEqual(['Ada Lovelace', 'bob']);
    expect((await s.eventsAfter(info.id, 0, 10)).map((e) => (e.type === 'joined' ? `${e.learner} ${e.how}` : e.type))).toEqual(['Ada Lovelace new', 'bob new', 'Ada Lovelace rejoined']);
    await s.close();
  });

  it('frees a name: old tokens stop working, and the next join takes the learner and their progress over', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const ada = await joinNew(s, info.joinCode, 'ada');
    await insert(s, ada.token, report());
    expect(await s.actOnLearner(info.id, ada.learner.id, 'free')).toMatchObject({ id: ada.learner.id, state: 'freed' });
    expect(await s.learnerByToken(ada.token)).toBeUndefined();
    expect(await s.insertReport(ada.token, report(), BIG_BUDGET)).toEqual({ kind: 'unknown token' });
    expect(await s.join(info.joinCode, name('ADA'), ada.token, BIG_BUDGET)).toMatchObject({ kind: 'joined', how: 'claimed', learner: { id: ada.learner.id, name: 'ada', state: 'active' } });
    const types = (await s.eventsAfter(info.id, 0, 10)).map((e) => e.type);
    expect(types).toEqual(['joined', 'report', 'freed', 'joined']);
    await s.close();
  });

  it('removes a learner: tokens revoked, events deleted, bytes given back, the name free for someone new', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const ada = await joinNew(s, info.joinCode, 'ada');
    const bob = await joinNew(s, info.joinCode, 'bob');
    for (let i = 0; i < 3; i++) await insert(s, ada.token, report());
    const fat = () => report({ rows: [{ check: 'c', status: 'fail', expected: 'e', actual: 'x'.repeat(1500), hint: '' }] });
    const budget = { learnerBytes: 2 ** 40, classBytes: 3000 };
    expect(await s.insertReport(bob.token, fat(), budget)).toMatchObject({ kind: 'over budget', scope: 'class' });
    expect(await s.actOnLearner(info.id, ada.learner.id, 'remove')).toMatchObject({ state: 'removed' });
    expect(await s.actOnLearner(info.id, ada.learner.id, 'remove')).toBeUndefined();
    expect(await s.insertReport(ada.token, report(), BIG_BUDGET)).toEqual({ kind: 'unknown token' });
    expect((await s.insertReport(bob.token, fat(), budget)).kind).toBe('stored');
    const events = await s.eventsAfter(info.id, 0, 100);
    expect(events.map((e) => `${e.type} ${e.type === 'alert' ? '' : e.learner}`)).toEqual(['joined bob', 'removed ada', 'report bob']);
    const newAda = await joinNew(s, info.joinCode, 'Ada');
    expect(newAda.learner.id).not.toBe(ada.learner.id);
    expect((await s.snapshot(info.id)).learners.map((l) => l.name)).toEqual(['bob', 'Ada']);
    await s.close();
  });

  it('keeps each learner and the class within their storage budget, and records alerts outside it', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const ada = await joinNew(s, info.joinCode, 'ada');
    const budget = { learnerBytes: 4000, classBytes: 2 ** 40 };
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) outcomes.push((await s.insertReport(ada.token, report(), budget)).kind);
    expect(outcomes.slice(0, 2)).toEqual(['stored', 'stored']);
    expect(outcomes.at(-1)).toBe('over budget');
    expect(await s.insertReport(ada.token, report(), budget)).toMatchObject({ kind: 'over budget', scope: 'learner', learner: { id: ada.learner.id } });
    // a full class takes no new learner, but a learner already in it may join again
    expect(await s.join(info.joinCode, name('bob'), undefined, { learnerBytes: 2 ** 40, classBytes: 100 })).toMatchObject({ kind: 'over budget' });
    expect(await s.join(info.joinCode, name('ada'), ada.token, { learnerBytes: 2 ** 40, classBytes: 100 })).toMatchObject({ kind: 'joined', how: 'rejoined' });
    const id = await s.recordAlert(info.id, ada.learner.id, { limit: 'learner storage', bytes: 4000 });
    const classAlert = await s.recordAlert(info.id, null, { limit: 'class storage', bytes: 100 });
    expect(await s.eventsAfter(info.id, id - 1, 10)).toMatchObject([
      { id, type: 'alert', learnerId: ada.learner.id, learner: 'ada', alert: { limit: 'learner storage', bytes: 4000 } },
      { id: classAlert, type: 'alert', learnerId: null, learner: null, alert: { limit: 'class storage', bytes: 100 } },
    ]);
    expect(await s.maxEventId(info.id)).toBe(classAlert);
    await s.close();
  });

  it('stores a report once per UUID and says whether it was new', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const j = await joinNew(s, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const r = report();
    const first = await insert(s, j.token, r);
    const again = await insert(s, j.token, { ...r, attempts: 99 });
    expect(first.stored).toBe(true);
    expect(again).toEqual({ stored: false, eventId: first.eventId });
    const reports = (await s.snapshot(info.id)).events.filter((e) => e.type === 'report');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'report', learnerId: j.learner.id, learner: 'ada', report: r });
    await s.close();
  });

  it('gives events increasing ids across classes, and replays those after an id', async () => {
    const s = await fresh();
    const c1 = await s.openClass('one');
    const c2 = await s.openClass('two');
    const a = await joinNew(s, c1.joinCode, 'ada');
    const b = await joinNew(s, c2.joinCode, 'bob');
    if (!a || !b) throw new Error('join failed');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await insert(s, a.token, report({ attempts: i }))).eventId);
      ids.push((await insert(s, b.token, report({ attempts: i }))).eventId);
    }
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    const all = await s.eventsAfter(c1.id, 0, 1000);
    expect(all.map((e) => e.type)).toEqual(['joined', 'report', 'report', 'report', 'report', 'report']);
    expect(all.every((e) => e.learner === 'ada')).toBe(true);
    const third = all[2];
    if (!third) throw new Error('missing event');
    const after = await s.eventsAfter(c1.id, third.id, 1000);
    expect(after.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
    expect((await s.eventsAfter(c1.id, 0, 2)).map((e) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    await s.close();
  });

  it('tells subscribers about each new event in order, and not about duplicates', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const seen: ClassEvent[] = [];
    const off = await s.subscribe(info.id, (e) => seen.push(e));
    const j = await joinNew(s, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const r = report();
    await insert(s, j.token, r);
    await insert(s, j.token, r);
    await insert(s, j.token, report({ kind: 'passed', outcome: null, rows: [] }));
    // a shared database may deliver through the network: wait a little
    for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((res) => setTimeout(res, 20));
    expect(seen.map((e) => e.type)).toEqual(['joined', 'report', 'report']);
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((x, y) => x - y));
    off();
    await insert(s, j.token, report());
    await new Promise((res) => setTimeout(res, 100));
    expect(seen).toHaveLength(3);
    await s.close();
  });

  it('keeps the rows exactly, including markup and unicode', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const j = await joinNew(s, info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const r = report({ rows: [{ check: '<img src=x onerror=alert(1)>', status: 'fail', expected: 'master br0 ✔', actual: "no master'\"", hint: '' }] });
    await insert(s, j.token, r);
    const ev = (await s.eventsAfter(info.id, 0, 10)).find((e) => e.type === 'report');
    expect(ev?.type === 'report' ? ev.report : undefined).toEqual(r);
    await s.close();
  });
});

describe.runIf(STORES.some((f) => f.name === 'sqlite'))('store sqlite, from an older database', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('migrates a class from the first schema: ids, tokens and events kept, names keyed, bytes counted, ids never reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-classdb-'));
    dirs.push(dir);
    const file = join(dir, 'classroom.db');
    // the schema as the first released workshop wrote it, with no user_version
    const old = new DatabaseSync(file);
    old.exec(`
      CREATE TABLE classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, join_code TEXT NOT NULL UNIQUE, instructor_token TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE learners (id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id), name TEXT NOT NULL, joined_at TEXT NOT NULL, UNIQUE (class_id, name));
      CREATE TABLE tokens (hash TEXT PRIMARY KEY, learner_id INTEGER NOT NULL REFERENCES learners(id));
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, class_id INTEGER NOT NULL REFERENCES classes(id), learner_id INTEGER NOT NULL REFERENCES learners(id), type TEXT NOT NULL CHECK (type IN ('joined', 'report')), report_id TEXT UNIQUE, body TEXT, received_at TEXT NOT NULL);
      CREATE INDEX events_by_class ON events (class_id, id);
      INSERT INTO classes VALUES (1, 'default', 'OLDCDE', 'old-instructor-token', '2026-01-01T00:00:00.000Z');`);
    const now = '2026-01-01T00:00:00.000Z';
    [['ada', 'a'], ['Ada', 'b'], [' bob  x', 'c']].forEach(([name, t], i) => {
      old.prepare('INSERT INTO learners VALUES (?, 1, ?, ?)').run(i + 1, name ?? '', now);
      old.prepare('INSERT INTO tokens VALUES (?, ?)').run(createHash('sha256').update((t ?? '').repeat(32)).digest('hex'), i + 1);
      old.prepare("INSERT INTO events (class_id, learner_id, type, received_at) VALUES (1, ?, 'joined', ?)").run(i + 1, now);
    });
    old.prepare("INSERT INTO events (class_id, learner_id, type, report_id, body, received_at) VALUES (1, 1, 'report', 'r1', ?, ?)").run(JSON.stringify(report()), now);
    // an event that was deleted: its id must not come back
    old.exec("INSERT INTO events (class_id, learner_id, type, received_at) VALUES (1, 1, 'joined', 'x'); DELETE FROM events WHERE id = 5;");
    old.close();

    return (async () => {
      const s = new SqliteStore(file);
      const info = await s.openClass('default');
      expect(info).toMatchObject({ joinCode: 'OLDCDE', instructorToken: 'old-instructor-token' });
      expect((await s.snapshot(info.id)).learners.map((l) => [l.name, l.nameKey])).toEqual([['ada', 'ada'], ['Ada', 'ada#2'], [' bob  x', 'bob x']]);
      expect((await s.eventsAfter(info.id, 0, 10)).map((e) => e.id)).toEqual([1, 2, 3, 4]);
      expect(await s.join(info.joinCode, name('ADA'), undefined, BIG_BUDGET)).toMatchObject({ kind: 'name taken', learner: { name: 'ada' } });
      expect(await s.join(info.joinCode, name('bob x'), 'c'.repeat(32), BIG_BUDGET)).toMatchObject({ kind: 'joined', how: 'rejoined' });
      expect((await insert(s, 'b'.repeat(32), report())).eventId).toBe(7);
      // ada's joined event and report count against her budget
      expect(await s.insertReport('a'.repeat(32), report(), { learnerBytes: 1000, classBytes: 2 ** 40 })).toMatchObject({ kind: 'over budget', scope: 'learner' });
      await s.close();
    })();
  });
});
