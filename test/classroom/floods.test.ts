// Issue 19, item 16: floods. Anyone with the join code could add ~600 learners a minute, and one
// learner token grew the database by 11.3 MB in 1 s. Joins are now rate-limited per address and
// per class, and each learner and the class have a storage budget: past it, a clear 413 (the
// learner's) or 429 (the class's), and a line in the instructor's view.
import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassView } from '../../src/classroom/model.ts';
import { workshop } from '../helpers/workshop.ts';
import { getJson, joinAs, post, report, serveProcess, until, type ServeProcess } from './harness.ts';
import { STORES } from './stores.ts';

type View = ClassView & { class: { name: string; joinCode: string } };
const sqlite = STORES.find((s) => s.name === 'sqlite');
const servers: ServeProcess[] = [];
const serve = async (extra: string[] = []): Promise<ServeProcess> => {
  if (!sqlite) throw new Error('no sqlite');
  const s = await serveProcess(await sqlite.freshDb(), 0, extra);
  servers.push(s);
  return s;
};
const join = (s: ServeProcess, name: string, token?: string) =>
  fetch(`${s.origin}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ code: s.joinCode, name }) });
const dbBytes = (db: string): number => [db, `${db}-wal`].reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
/** A report of about `kib` KiB: 30 rows under the 2 KiB row limit. */
const fat = (kib: number) => report({ rows: Array.from({ length: Math.min(50, Math.ceil(kib / 1.9)) }, (_, i) => ({ check: `check ${i}`, status: 'fail' as const, expected: 'e', actual: 'x'.repeat(1900), hint: '' })) });

afterAll(async () => {
  for (const s of servers) await s.stop();
  await sqlite?.cleanup();
});

describe.runIf(sqlite)('floods', () => {
  it('limits joins from one address: 30 go through, then 429 with Retry-After, and the instructor sees a line', async () => {
    const s = await serve();
    const codes: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 40; i++) {
      const res = await join(s, `learner ${i}`);
      codes.push(res.status);
      if (res.status === 429) refused ??= res;
      else await res.body?.cancel();
    }
    expect(codes.filter((c) => c === 201)).toHaveLength(30);
    expect(codes.slice(30)).toEqual(Array(10).fill(429));
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused?.json()) as { error: string }).error).toMatch(/too many joins from this address/);
    await until('the alert', async () => (await getJson<View>(s.origin, '/api/class', s.token)).alerts.length > 0);
    const status = await workshop(s.home, ['classroom', 'status']);
    expect(status.stdout).toMatch(/^! Joins are arriving too fast from one address: 1 refused \(--joins-per-address raises the limit/m);
  });

  it('limits new learners per class, while a learner with their own token still joins again', async () => {
    const s = await serve(['--joins-per-address', '1000', '--joins-per-class', '10']);
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) tokens.push(await joinAs(s.origin, s.joinCode, `learner ${i}`));
    const eleventh = await join(s, 'learner 10');
    expect(eleventh.status).toBe(429);
    expect(((await eleventh.json()) as { error: string }).error).toMatch(/too many new learners are joining this class right now/);
    const again = await join(s, 'learner 3', tokens[3]);
    expect(again.status).toBe(200);
  });

  it("keeps one learner's token from growing the database past their budget: 413, a line for the instructor, others unaffected", async () => {
    const s = await serve(['--learner-storage', '1MiB']);
    const eve = await joinAs(s.origin, s.joinCode, 'eve');
    const ada = await joinAs(s.origin, s.joinCode, 'ada');
    const before = dbBytes(s.db);
    const codes: number[] = [];
    let message = '';
    // 150 reports of ~57 KiB: 8.5 MB offered in a few seconds, within the report rate
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let i = 0; i < 30; i++) {
          const r = await post(s.origin, eve, fat(57));
          codes.push(r.status);
          if (r.status === 413) message = r.body.error ?? '';
        }
      }),
    );
    expect(codes.filter((c) => c === 201).length).toBeLessThanOrEqual(18);
    expect(codes.filter((c) => c === 413).length).toBeGreaterThan(120);
    expect(message).toMatch(/you have used up the storage a learner has in this class \(1 MiB\)/);
    expect(dbBytes(s.db) - before).toBeLessThan(3 * 2 ** 20);
    expect((await post(s.origin, ada, report())).status).toBe(201);
    await until('the alert', async () => (await getJson<View>(s.origin, '/api/class', s.token)).alerts.some((a) => a.limit === 'learner storage'));
    const view = await getJson<View>(s.origin, '/api/class', s.token);
    expect(view.alerts.filter((a) => a.limit === 'learner storage')).toHaveLength(1);
    const status = await workshop(s.home, ['classroom', 'status']);
    expect(status.stdout).toMatch(/^! eve used up the storage of a learner \(1 MiB\): their reports are refused\. Remove them, or serve with a larger --learner-storage\.$/m);
  });

  it("keeps the class within its budget: 429 with Retry-After, no new learners, and a line for the instructor", async () => {
    const s = await serve(['--class-storage', '1MiB', '--learner-storage', '300KiB']);
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) tokens.push(await joinAs(s.origin, s.joinCode, `learner ${i}`));
    const seen = new Set<number>();
    for (const t of tokens) for (let i = 0; i < 6; i++) seen.add((await post(s.origin, t, fat(57))).status);
    expect(seen).toEqual(new Set([201, 413, 429]));
    const res = await fetch(`${s.origin}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[4]}` }, body: JSON.stringify(fat(57)) });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(((await res.json()) as { error: string }).error).toMatch(/the class has used up its storage \(1 MiB\)/);
    // small reports fill what is left; then the class takes no new learner either
    for (let i = 0; i < 200 && (await post(s.origin, tokens[4] ?? '', report())).status === 201; i++);
    expect((await post(s.origin, tokens[4] ?? '', report())).status).toBe(429);
    expect((await join(s, 'late')).status).toBe(429);
    await until('the alert', async () => (await getJson<View>(s.origin, '/api/class', s.token)).alerts.some((a) => a.limit === 'class storage'));
    // the instructor makes room: removing a learner gives their bytes back
    const v = await getJson<View>(s.origin, '/api/class', s.token);
    const big = v.learners[0];
    expect((await fetch(`${s.origin}/api/learners/${big?.id}/remove`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    expect((await post(s.origin, tokens[4] ?? '', fat(57))).status).toBe(201);
  });
});
