// The Store contract, run unchanged against every implementation in stores.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassEvent, Report, Store } from '../../src/classroom/store.ts';
import { STORES } from './stores.ts';

const report = (over: Partial<Report> = {}): Report => ({
  id: randomUUID(),
  kind: 'attempted',
  step: 'preflight/vm',
  command: 'next',
  next: null,
  outcome: 'fail',
  rows: [{ check: 'vm.txt says the hypervisor', status: 'fail', expected: 'kvm', actual: 'no file', hint: 'hint 1' }],
  attempts: 1,
  hints: 0,
  at: new Date().toISOString(),
  ...over,
});

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
    const j = await s.join(info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    await s.insertReport(j.learner.id, report());
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
    expect(await s.join('NOPE42', 'ada')).toBeUndefined();
    const j = await s.join(info.joinCode, 'ada');
    expect(j?.learner.name).toBe('ada');
    expect(j?.learner.classId).toBe(info.id);
    const found = await s.learnerByToken(j?.token ?? '');
    expect(found).toEqual(j?.learner);
    expect(await s.learnerByToken('not-a-token')).toBeUndefined();
    await s.close();
  });

  it('rejoining under the same name is the same learner with a new token; both tokens work', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const a = await s.join(info.joinCode, 'ada');
    const b = await s.join(info.joinCode, 'ada');
    expect(b?.learner.id).toBe(a?.learner.id);
    expect(b?.token).not.toBe(a?.token);
    expect((await s.learnerByToken(a?.token ?? ''))?.id).toBe(a?.learner.id);
    expect((await s.snapshot(info.id)).learners).toHaveLength(1);
    await s.close();
  });

  it('stores a report once per UUID and says whether it was new', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const j = await s.join(info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const r = report();
    const first = await s.insertReport(j.learner.id, r);
    const again = await s.insertReport(j.learner.id, { ...r, attempts: 99 });
    expect(first.stored).toBe(true);
    expect(again).toEqual({ stored: false, eventId: first.eventId });
    const reports = (await s.snapshot(info.id)).events.filter((e) => e.type === 'report');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'report', learner: 'ada', report: r });
    await s.close();
  });

  it('gives events increasing ids across classes, and replays those after an id', async () => {
    const s = await fresh();
    const c1 = await s.openClass('one');
    const c2 = await s.openClass('two');
    const a = await s.join(c1.joinCode, 'ada');
    const b = await s.join(c2.joinCode, 'bob');
    if (!a || !b) throw new Error('join failed');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await s.insertReport(a.learner.id, report({ attempts: i }))).eventId);
      ids.push((await s.insertReport(b.learner.id, report({ attempts: i }))).eventId);
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
    const j = await s.join(info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const r = report();
    await s.insertReport(j.learner.id, r);
    await s.insertReport(j.learner.id, r);
    await s.insertReport(j.learner.id, report({ kind: 'passed', outcome: null, rows: [] }));
    // a shared database may deliver through the network: wait a little
    for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((res) => setTimeout(res, 20));
    expect(seen.map((e) => e.type)).toEqual(['joined', 'report', 'report']);
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((x, y) => x - y));
    off();
    await s.insertReport(j.learner.id, report());
    await new Promise((res) => setTimeout(res, 100));
    expect(seen).toHaveLength(3);
    await s.close();
  });

  it('keeps the rows exactly, including markup and unicode', async () => {
    const s = await fresh();
    const info = await s.openClass('default');
    const j = await s.join(info.joinCode, 'ada');
    if (!j) throw new Error('join failed');
    const r = report({ rows: [{ check: '<img src=x onerror=alert(1)>', status: 'fail', expected: 'master br0 ✔', actual: "no master'\"", hint: '' }] });
    await s.insertReport(j.learner.id, r);
    const ev = (await s.eventsAfter(info.id, 0, 10)).find((e) => e.type === 'report');
    expect(ev?.type === 'report' ? ev.report : undefined).toEqual(r);
    await s.close();
  });
});
