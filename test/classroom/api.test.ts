// The class API treats every request as untrusted: tokens, schemas, sizes, step ids, rates. A
// rejected request gets a 4xx with a message, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassView } from '../../src/classroom/model.ts';
import { getJson, inProcess, joinAs, post, report, until, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

type View = ClassView & { class: { name: string; joinCode: string } };

describe.each(STORES)('class API on $name', (factory) => {
  let t: TestServer;
  let ada: string;
  let bob: string;
  const reportsStored = async (): Promise<number> => (await t.store.snapshot(t.server.info.id)).events.filter((e) => e.type === 'report').length;

  beforeAll(async () => {
    t = await inProcess(factory);
    ada = await joinAs(t.origin, t.joinCode, 'ada');
    bob = await joinAs(t.origin, t.joinCode, 'bob');
  });
  afterAll(async () => {
    await t.close();
    await factory.cleanup();
  });

  it('stores a valid report once: 201, then 200 with stored false for the same UUID', async () => {
    const r = report();
    const first = await post(t.origin, ada, r);
    expect(first).toMatchObject({ status: 201, body: { stored: true } });
    const again = await post(t.origin, ada, r);
    expect(again).toMatchObject({ status: 200, body: { stored: false, eventId: first.body.eventId } });
  });

  it('refuses a join with an unknown code, or a name that is not 1-64 plain characters', async () => {
    const before = (await t.store.snapshot(t.server.info.id)).learners.length;
    const join = (code: string, name: unknown) => fetch(`${t.origin}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, name }) });
    const bad = await join('ZZZZZZ', 'eve');
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown join code/);
    for (const name of ['<img src=x onerror=alert(1)>', '', 'x'.repeat(65), 'a\nb', '   ', 'ünï', 42, null]) {
      const res = await join(t.joinCode, name);
      expect(res.status, String(name)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/invalid request: body\/name/);
    }
    expect((await t.store.snapshot(t.server.info.id)).learners.length).toBe(before);
  });

  it('needs a learner token for reports: none, a wrong one or the instructor token get 401, nothing stored', async () => {
    const before = await reportsStored();
    for (const tok of [undefined, 'not-a-token', t.token, `${ada}x`]) {
      const res = await post(t.origin, tok, report());
      expect(res.status, String(tok)).toBe(401);
      expect(res.body.error).toMatch(/learner token/);
    }
    expect(await reportsStored()).toBe(before);
  });

  it('files a report under the token that sent it: no field names another learner, and a stolen UUID is not rewritten', async () => {
    const withLearner = await post(t.origin, bob, { ...report(), learner: 'ada' });
    expect(withLearner.status).toBe(400);
    expect(withLearner.body.error).toMatch(/must NOT have additional properties/);
    const adas = report({ step: 'preflight/root' });
    expect((await post(t.origin, ada, adas)).status).toBe(201);
    expect((await post(t.origin, bob, { ...adas, step: 'preflight/tools', outcome: 'pass', rows: [] })).body.stored).toBe(false);
    const events = (await t.store.snapshot(t.server.info.id)).events;
    const stored = events.find((e) => e.type === 'report' && e.report.id === adas.id);
    expect(stored).toMatchObject({ learner: 'ada', report: { step: 'preflight/root' } });
  });

  it('rejects oversized bodies, too many rows, rows over 2 KiB and unknown step ids, storing nothing', async () => {
    const before = await reportsStored();
    const big = await post(t.origin, ada, report({ rows: [{ check: 'c', status: 'fail', expected: 'e', actual: 'x'.repeat(70 * 1024), hint: '' }] }));
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/larger than 64 KiB/);
    const row = { check: 'c', status: 'fail' as const, expected: 'e', actual: 'a', hint: '' };
    const many = await post(t.origin, ada, report({ rows: Array.from({ length: 51 }, () => row) }));
    expect(many.status).toBe(400);
    expect(many.body.error).toMatch(/body\/rows must NOT have more than 50 items/);
    // 4 fields of 600 characters of 2 bytes each: under the 2048-character limit per field, 4800 bytes a row
    const fat = await post(t.origin, ada, report({ rows: [{ check: 'é'.repeat(600), status: 'fail', expected: 'é'.repeat(600), actual: 'é'.repeat(600), hint: 'é'.repeat(600) }] }));
    expect(fat.status).toBe(413);
    expect(fat.body.error).toMatch(/row 1 is 4800 bytes/);
    const unknown = await post(t.origin, ada, report({ step: 'preflight/no-such-step' }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatch(/unknown step "preflight\/no-such-step"/);
    const chapter = await post(t.origin, ada, report({ kind: 'started', step: 'no-such-chapter', outcome: null, rows: [] }));
    expect(chapter.status).toBe(422);
    const next = await post(t.origin, ada, report({ kind: 'passed', next: 'evil/step', outcome: null, rows: [] }));
    expect(next.status).toBe(422);
    expect(await reportsStored()).toBe(before);
  });

  it('rejects fuzzed bodies with a 400 and a message, storing nothing', async () => {
    const before = await reportsStored();
    const junk: unknown[] = [null, 0, -1, 1.5, '', 'x'.repeat(3000), [], {}, true, '<script>alert(1)</script>', { $gt: '' }, '1'];
    const valid = report();
    const keys = Object.keys(valid);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let rejected = 0;
    for (let i = 0; i < 150; i++) {
      const body: Record<string, unknown> = { ...report() };
      const key = keys[rnd(keys.length)] ?? 'id';
      const mode = rnd(3);
      if (mode === 0) delete body[key];
      else if (mode === 1) body[key] = junk[rnd(junk.length)];
      else body[`x${rnd(100)}`] = junk[rnd(junk.length)];
      // a junk value can happen to be valid (an empty string for `command`); only count the others
      const res = await post(t.origin, ada, body);
      if (res.status === 201) continue;
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.error).toBeTruthy();
      rejected++;
    }
    for (const raw of ['{', 'null', '[]', '"x"', '{"id":', '\u0000', 'a'.repeat(1000)]) {
      const res = await post(t.origin, ada, raw, true);
      expect(res.status, raw.slice(0, 20)).toBe(400);
    }
    const accepted = (await reportsStored()) - before;
    expect(rejected + accepted).toBe(150);
    expect(rejected).toBeGreaterThan(120);
  });

  it('opens the dashboard, the API, the stream and the exports only with the instructor token', async () => {
    for (const path of ['/api/class', '/api/events', '/api/export.csv', '/api/export.json']) {
      for (const auth of [undefined, `Bearer ${ada}`, 'Bearer wrong', `Basic ${t.token}`]) {
        const res = await fetch(`${t.origin}${path}`, { headers: auth ? { authorization: auth } : {} });
        expect(res.status, `${path} ${auth}`).toBe(401);
        await res.body?.cancel();
      }
      const wrongCookie = await fetch(`${t.origin}${path}`, { headers: { cookie: 'workshop_instructor=nope' } });
      expect(wrongCookie.status).toBe(401);
      await wrongCookie.body?.cancel();
    }
    const page = await fetch(`${t.origin}/`);
    expect(page.status).toBe(401);
    expect(await page.text()).toMatch(/instructor URL/);
    const wrong = await fetch(`${t.origin}/?token=nope`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const view = await getJson<View>(t.origin, '/api/class', t.token);
    expect(view.learners.map((l) => l.name)).toEqual(['ada', 'bob']);
  });

  it('moves the token from the URL into an HttpOnly SameSite cookie, and serves the page with CSP default-src self', async () => {
    const res = await fetch(`${t.origin}/?token=${t.token}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^workshop_instructor=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    const page = await fetch(`${t.origin}/`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
    const html = await page.text();
    expect(html).not.toMatch(/<script>|\son\w+=|\sstyle=|https?:\/\//);
    expect(html).toMatch(/<script src="\/assets\/dashboard\.js" defer>/);
    const js = await fetch(`${t.origin}/assets/dashboard.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await fetch(`${t.origin}/assets/../store.ts`)).status).toBe(404);
  });

  it('keeps markup in a report as text in the API and the export', async () => {
    const xss = '<img src=x onerror=alert(1)>';
    expect((await post(t.origin, bob, report({ step: 'preflight/tools', rows: [{ check: xss, status: 'fail', expected: '"=cmd|calc"', actual: xss, hint: '' }] }))).status).toBe(201);
    // a shared database tells the server's model through the network: wait for it
    let view: View | undefined;
    await until('bob failing', async () => {
      view = await getJson<View>(t.origin, '/api/class', t.token);
      return view.learners.find((l) => l.name === 'bob')?.failing.length === 1;
    });
    expect(view?.learners.find((l) => l.name === 'bob')?.failing[0]?.check).toBe(xss);
    const csv = await (await fetch(`${t.origin}/api/export.csv`, { headers: { authorization: `Bearer ${t.token}` } })).text();
    expect(csv).toContain(xss);
  });

  it('rate-limits reports per learner: one learner flooding does not stop another', async () => {
    const r = await inProcess(factory, { reportsPerSecond: 2 });
    try {
      const eve = await joinAs(r.origin, r.joinCode, 'eve');
      const fay = await joinAs(r.origin, r.joinCode, 'fay');
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) codes.push((await post(r.origin, eve, report())).status);
      expect(codes.filter((c) => c === 201)).toHaveLength(20);
      expect(codes.filter((c) => c === 429)).toHaveLength(10);
      expect((await post(r.origin, fay, report())).status).toBe(201);
    } finally {
      await r.close();
    }
  });
});
