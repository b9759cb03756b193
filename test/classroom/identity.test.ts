// Issue 19, item 2: no one can pose as another learner. A name belongs to the learner who took it
// first: a join under it (in any case, spacing or compatibility form) gets 409 unless it carries
// that learner's own token. The instructor frees a name (the next join takes the learner over)
// or removes a learner, from the API (the dashboard's buttons) and from the CLI.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassView } from '../../src/classroom/model.ts';
import { workshop } from '../helpers/workshop.ts';
import { getJson, inProcess, joinAs, post, report, serveProcess, until, type ServeProcess, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

type View = ClassView & { class: { name: string; joinCode: string } };

const joinRaw = (origin: string, code: string, name: string, token?: string) =>
  fetch(`${origin}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ code, name }) });

const act = (origin: string, token: string, id: number, what: 'remove' | 'free', contentType = 'application/json') =>
  fetch(`${origin}/api/learners/${id}/${what}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: '{}' });

describe.each(STORES)('learner identity over the API on $name', (factory) => {
  let t: TestServer;
  let ada: string;
  const view = () => getJson<View>(t.origin, '/api/class', t.token);
  const learner = async (name: string) => (await view()).learners.find((l) => l.name === name);

  beforeAll(async () => {
    t = await inProcess(factory);
    ada = await joinAs(t.origin, t.joinCode, 'Ada Lovelace');
  });
  afterAll(async () => {
    await t.close();
    await factory.cleanup();
  });

  it('refuses a taken name with 409 and says what to do, in any case, spacing or fullwidth form', async () => {
    for (const name of ['Ada Lovelace', 'ada lovelace', '  ADA   LOVELACE ', 'Ａｄａ　Ｌｏｖｅｌａｃｅ']) {
      const res = await joinRaw(t.origin, t.joinCode, name);
      expect(res.status, name).toBe(409);
      const body = (await res.json()) as { error: string; token?: string };
      expect(body.error).toMatch(/the name "Ada Lovelace" is taken in this class/);
      expect(body.error).toMatch(/workshop classroom free "Ada Lovelace"/);
      expect(body.token).toBeUndefined();
    }
    expect((await view()).learners.map((l) => l.name)).toEqual(['Ada Lovelace']);
  });

  it("gives the same learner and token back to a join that carries that learner's own token, and to no other", async () => {
    const res = await joinRaw(t.origin, t.joinCode, 'ada lovelace', ada);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: ada, name: 'Ada Lovelace', class: 'default', how: 'rejoined' });
    const bob = await joinAs(t.origin, t.joinCode, 'bob');
    expect((await joinRaw(t.origin, t.joinCode, 'Ada Lovelace', bob)).status).toBe(409);
    expect((await joinRaw(t.origin, t.joinCode, 'Ada Lovelace', 'A'.repeat(32))).status).toBe(409);
  });

  it("keeps Ada's progress from an impostor: a reset can only come with Ada's token", async () => {
    expect((await post(t.origin, ada, report({ kind: 'passed', step: 'preflight/vm', next: 'preflight/root', outcome: null, rows: [] }))).status).toBe(201);
    await until('ada passed preflight/vm', async () => (await learner('Ada Lovelace'))?.done.includes('preflight/vm') === true);
    // the attack of the issue: join as Ada from another home, then reset
    const stolen = await joinRaw(t.origin, t.joinCode, 'Ada Lovelace');
    expect(stolen.status).toBe(409);
    const csv = await (await fetch(`${t.origin}/api/export.csv`, { headers: { authorization: `Bearer ${t.token}` } })).text();
    expect(csv).toMatch(/\r\nAda Lovelace,preflight\/root,1,/);
  });

  it('lets the instructor free a name: the old token stops working, the next join takes the learner and their progress over', async () => {
    const id = (await learner('Ada Lovelace'))?.id ?? -1;
    expect((await act(t.origin, ada, id, 'free')).status).toBe(401); // a learner token is not the instructor's
    expect((await act(t.origin, t.token, id, 'free', 'application/x-www-form-urlencoded')).status).toBe(415); // no cross-site form
    const freed = await act(t.origin, t.token, id, 'free');
    expect(freed.status).toBe(200);
    expect(await freed.json()).toEqual({ learner: { id, name: 'Ada Lovelace', state: 'freed' } });
    await until('the name shown freed', async () => (await learner('Ada Lovelace'))?.access === 'freed');
    expect((await post(t.origin, ada, report())).status).toBe(401);
    const claim = await joinRaw(t.origin, t.joinCode, 'ADA LOVELACE');
    expect(claim.status).toBe(201);
    const claimed = (await claim.json()) as { token: string; how: string };
    expect(claimed.how).toBe('claimed');
    expect(claimed.token).not.toBe(ada);
    await until('ada active again', async () => (await learner('Ada Lovelace'))?.access === 'active');
    expect(await learner('Ada Lovelace')).toMatchObject({ id, done: ['preflight/vm'] });
    expect((await post(t.origin, claimed.token, report({ step: 'preflight/root' }))).status).toBe(201);
    ada = claimed.token;
  });

  it('lets the instructor remove a learner: gone from the view and the export, token dead, the name free for someone new', async () => {
    const id = (await learner('Ada Lovelace'))?.id ?? -1;
    expect((await act(t.origin, t.token, 999_999, 'remove')).status).toBe(404);
    expect((await act(t.origin, t.token, id, 'remove')).status).toBe(200);
    expect((await act(t.origin, t.token, id, 'remove')).status).toBe(404);
    await until('ada gone', async () => (await learner('Ada Lovelace')) === undefined);
    expect((await post(t.origin, ada, report())).status).toBe(401);
    const csv = await (await fetch(`${t.origin}/api/export.csv`, { headers: { authorization: `Bearer ${t.token}` } })).text();
    expect(csv).not.toContain('Ada Lovelace');
    const fresh = await joinRaw(t.origin, t.joinCode, 'Ada Lovelace');
    expect(fresh.status).toBe(201);
    expect(((await fresh.json()) as { how: string }).how).toBe('new');
    await until('a new ada', async () => (await learner('Ada Lovelace')) !== undefined);
    expect(await learner('Ada Lovelace')).toMatchObject({ done: [], current: 'preflight/vm' });
    expect((await learner('Ada Lovelace'))?.id).not.toBe(id);
  });
});

describe.runIf(STORES.some((s) => s.name === 'sqlite'))('learner identity through the CLI', () => {
  const sqlite = STORES.find((s) => s.name === 'sqlite');
  let server: ServeProcess;
  const dirs: string[] = [];
  const home = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'ws-identity-'));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    if (!sqlite) return;
    server = await serveProcess(await sqlite.freshDb());
  });
  afterAll(async () => {
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  it('joins a name once: another home gets exit 2 and what to do, the same home joins again', async () => {
    const a = home();
    const b = home();
    const first = await workshop(a, ['classroom', 'join', server.origin, server.joinCode, '--name', 'Ada Lovelace']);
    expect(first.code, first.stderr).toBe(0);
    const token = (JSON.parse(readFileSync(join(a, 'classroom.json'), 'utf8')) as { token: string }).token;
    const other = await workshop(b, ['classroom', 'join', server.origin, server.joinCode, '--name', 'ada  LOVELACE']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/error: the name "Ada Lovelace" is taken in this class/);
    expect(other.stderr).toMatch(/hint: pick another --name, or ask the instructor/);
    expect(() => readFileSync(join(b, 'classroom.json'))).toThrow();
    const again = await workshop(a, ['classroom', 'join', server.origin, server.joinCode, '--name', 'Ada Lovelace']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/again as Ada Lovelace, the same learner as before/);
    expect((JSON.parse(readFileSync(join(a, 'classroom.json'), 'utf8')) as { token: string }).token).toBe(token);
  });

  it('frees and removes a learner with `classroom free NAME` and `classroom remove NAME`', async () => {
    const b = home();
    const free = await workshop(server.home, ['classroom', 'free', 'ada lovelace']);
    expect(free.code, free.stderr).toBe(0);
    expect(free.stdout).toMatch(/^Freed the name Ada Lovelace: the next `workshop classroom join … --name "Ada Lovelace"` takes over this learner/);
    const claim = await workshop(b, ['classroom', 'join', server.origin, server.joinCode, '--name', 'Ada Lovelace']);
    expect(claim.code, claim.stderr).toBe(0);
    expect(claim.stdout).toMatch(/taking over the learner whose name the instructor freed/);
    const missing = await workshop(server.home, ['classroom', 'remove', 'Grace Hopper']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no learner "Grace Hopper" in the class\nhint: the learners: Ada Lovelace/);
    const removed = await workshop(server.home, ['classroom', 'remove', 'Ada Lovelace']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^Removed Ada Lovelace from the class/);
    const status = await workshop(server.home, ['classroom', 'status']);
    expect(status.stdout).toMatch(/: 0 learners/);
  });
});
