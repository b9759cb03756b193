// Hosted labs on the class server, over HTTP and WebSocket, with the labs manager on a fake driver
// (test/unit/labs-fake.ts: the real frames, no VM): a learner's page joins, gets a lab and a
// terminal; the instructor watches, takes over and reads the timeline; and every way of reaching
// someone else's lab is refused. test/labs/ runs the same on real VMs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LabsConfig } from '../../src/classroom/labs-plugin.ts';
import { LESSONS } from '../helpers/workshop.ts';
import { FakeDriver } from '../unit/labs-fake.ts';
import { inProcess, joinAs, report, until, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');

/** A learner's browser: their cookie, and what their terminal socket showed. */
interface Browser {
  name: string;
  token: string;
  cookie: string;
}

interface Term {
  ws: WebSocket;
  text: () => string;
  control: Array<{ type: string; [k: string]: unknown }>;
  waitFor(s: string, ms?: number): Promise<void>;
}

describe.runIf(sqlite !== undefined)('hosted labs on the class server (a fake driver)', () => {
  let t: TestServer;
  let driver: FakeDriver;
  let stateDir: string;
  let instructorCookie = '';
  const logs: string[] = [];

  beforeAll(async () => {
    if (!sqlite) return;
    driver = new FakeDriver();
    stateDir = mkdtempSync(join(tmpdir(), 'ws-labs-srv-'));
    const labs: LabsConfig = { driver, stateDir, capacity: 2, warm: 1, spec: { memoryMiB: 512, cpus: 1 }, idleStopMs: 60_000, lessonsDir: LESSONS, expireOnClose: true, bootTimeoutMs: 2000 };
    t = await inProcess(sqlite, { labs, log: (l) => logs.push(l) });
    const res = await fetch(`${t.origin}/?token=${t.token}`, { redirect: 'manual' });
    instructorCookie = /workshop_instructor=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
  });

  afterAll(async () => {
    await t?.close();
    expect(driver?.vms.size ?? 0).toBe(0); // --expire: every lab removed with the server
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  async function browser(name: string): Promise<Browser> {
    const token = await joinAs(t.origin, t.joinCode, name);
    const res = await fetch(`${t.origin}/lab/api/login`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    return { name, token, cookie: /workshop_lab=[^;]+/.exec(setCookie)?.[0] ?? '' };
  }

  const get = (b: Browser | string, path: string) => fetch(`${t.origin}${path}`, { headers: { cookie: typeof b === 'string' ? b : b.cookie } });
  const ticket = async (b: Browser): Promise<string> => {
    const res = await fetch(`${t.origin}/lab/api/ticket`, { method: 'POST', headers: { cookie: b.cookie, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { ticket: string }).ticket;
  };

  /** Opens a WebSocket; resolves with it once open, or with the HTTP status that refused it. */
  function socket(path: string, headers: Record<string, string>): Promise<{ ws: WebSocket; term: Term } | { refused: number }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${t.origin.replace(/^http/, 'ws')}${path}`, { headers });
      // listening from the start: the first message may come in the same chunk as the upgrade
      const tm = term(ws);
      ws.once('open', () => resolve({ ws, term: tm }));
      ws.once('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
      ws.once('error', () => resolve({ refused: -1 }));
    });
  }

  function term(ws: WebSocket): Term {
    let out = '';
    const control: Term['control'] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) out += d.toString('utf8');
      else control.push(JSON.parse(d.toString('utf8')) as Term['control'][number]);
      for (const w of waiters) w();
    });
    return {
      ws,
      text: () => out,
      control,
      waitFor: (s, ms = 5000) =>
        new Promise((resolve, reject) => {
          const check = () => {
            if (out.includes(s) || control.some((c) => JSON.stringify(c).includes(s))) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve();
            }
          };
          const timer = setTimeout(() => reject(new Error(`no "${s}" within ${ms} ms; saw ${JSON.stringify(out.slice(-300))} ${JSON.stringify(control)}`)), ms);
          waiters.add(check);
          check();
        }),
    };
  }

  const origin = () => ({ origin: t.origin });

  async function openTerminal(b: Browser): Promise<Term> {
    const s = await socket(`/lab/api/terminal?ticket=${await ticket(b)}&cols=100&rows=30`, { cookie: b.cookie, ...origin() });
    if (!('ws' in s)) throw new Error(`refused: ${s.refused}`);
    const tm = s.term;
    await tm.waitFor('"ready"');
    return tm;
  }

  let ada: Browser;
  let bob: Browser;
  let adaTerm: Term;

  it('gives a learner who joins a lab, their step text, and a terminal on their own VM', async () => {
    ada = await browser('ada');
    const me = (await (await get(ada, '/lab/api/me')).json()) as { learner: { name: string }; lab: { kind: string }; step: { id: string; html: string }; recorded: boolean };
    expect(me).toMatchObject({ learner: { name: 'ada' }, lab: { kind: 'claimed' }, step: { id: 'preflight/vm' }, recorded: true });
    expect(me.step.html).toMatch(/<(p|pre|code)>/);
    adaTerm = await openTerminal(ada);
    adaTerm.ws.send(Buffer.from('echo secret-of-ada\r'));
    await adaTerm.waitFor('secret-of-ada');
    // the page and its files, xterm.js included, come from this server
    for (const p of ['/lab', '/lab/assets/labs.js', '/lab/assets/xterm.mjs', '/lab/assets/addon-fit.mjs', '/lab/assets/xterm.css']) expect((await fetch(`${t.origin}${p}`)).status, p).toBe(200);
    expect((await fetch(`${t.origin}/lab/assets/..%2fserver.ts`)).status).toBe(404);
  });

  it('refuses every other way to a lab: no cookie, another learner’s cookie, a forged or used ticket, another origin', async () => {
    bob = await browser('bob');
    expect(((await (await get(bob, '/lab/api/me')).json()) as { lab: { kind: string } }).lab.kind).toBe('claimed');
    const adaTicket = await ticket(ada);
    const path = (tk: string) => `/lab/api/terminal?ticket=${tk}&cols=80&rows=24`;
    expect(await socket(path(adaTicket), { cookie: bob.cookie, ...origin() })).toEqual({ refused: 403 }); // bob with ada's ticket
    expect(await socket(path('forged-ticket-000000000000'), { cookie: ada.cookie, ...origin() })).toEqual({ refused: 403 });
    expect(await socket(path(adaTicket), { ...origin() })).toEqual({ refused: 401 }); // no cookie
    expect(await socket(path(adaTicket), { cookie: ada.cookie, origin: 'http://evil.example' })).toEqual({ refused: 403 });
    expect(await socket(path(adaTicket), { cookie: ada.cookie })).toEqual({ refused: 403 }); // no Origin at all
    expect(await socket(path(adaTicket), { cookie: 'workshop_lab=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ...origin() })).toEqual({ refused: 401 });
    // bob's bearer token is not a ticket, and a ticket is used once
    const own = await socket(path(adaTicket), { cookie: ada.cookie, ...origin() });
    expect('ws' in own).toBe(true);
    if ('ws' in own) own.ws.close();
    expect(await socket(path(adaTicket), { cookie: ada.cookie, ...origin() })).toEqual({ refused: 403 });
    // the instructor's routes are not a learner's
    expect((await get(ada, '/lab/api/labs')).status).toBe(401);
    expect(await socket('/lab/api/watch/1?mode=watch', { cookie: ada.cookie, ...origin() })).toEqual({ refused: 401 });
    // and ada's shell saw nothing of bob
    const bobTerm = await openTerminal(bob);
    bobTerm.ws.send(Buffer.from('echo secret-of-bob\r'));
    await bobTerm.waitFor('secret-of-bob');
    expect(adaTerm.text()).not.toContain('secret-of-bob');
    bobTerm.ws.close();
    // the re-open above took ada's terminal over (one at a time): open hers again
    adaTerm = await openTerminal(ada);
  });

  it('limits how often a learner may open a terminal (each connection takes a ticket)', async () => {
    const mallory = await browser('mallory');
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const res = await fetch(`${t.origin}/lab/api/ticket`, { method: 'POST', headers: { cookie: mallory.cookie, 'content-type': 'application/json' }, body: '{}' });
      statuses.push(res.status);
    }
    // mallory holds no lab (the class is full): 409 until the limit, then 429
    expect(statuses.slice(0, 30).every((s) => s === 409)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
    expect((await ticket(ada)).length).toBeGreaterThan(20); // another learner is not limited by it
  });

  it('refuses the learner beyond the capacity with a clear message, at once', async () => {
    const eve = await browser('eve');
    const t0 = performance.now();
    const me = (await (await get(eve, '/lab/api/me')).json()) as { lab: { kind: string; message: string } };
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(me.lab).toEqual({ kind: 'full', message: expect.stringMatching(/all 2 labs of this class are in use/) });
    const res = await fetch(`${t.origin}/lab/api/ticket`, { method: 'POST', headers: { cookie: eve.cookie, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(409);
  });

  const labsList = async () => (await (await get(instructorCookie, '/lab/api/labs')).json()) as { labs: Array<{ vm: string; learner: string | null; name: string | null }>; log: Array<{ what: string; learner: string }> };

  it('posts the guest’s report as the learner, shows it on their page, and links the failed check to the command before it', async () => {
    const { labs } = await labsList();
    const vm = labs.find((l) => l.name === 'ada')?.vm ?? '';
    adaTerm.ws.send(Buffer.from('echo nothing > vm.txt\r'));
    await adaTerm.waitFor('echo nothing > vm.txt');
    adaTerm.ws.send(Buffer.from('workshop next\r'));
    await adaTerm.waitFor('workshop next');
    const agent = driver.need(vm).agent;
    if (!agent) throw new Error('no agent');
    const answer = await agent.report(JSON.stringify(report()));
    expect(answer.status).toBe(201);
    await adaTerm.waitFor('"report"');
    expect(adaTerm.control.find((c) => c.type === 'report')).toMatchObject({ report: { step: 'preflight/vm', outcome: 'fail' } });
    const snap = await t.store.snapshot(t.server.info.id);
    expect(snap.events.filter((e) => e.type === 'report').map((e) => e.learner)).toEqual(['ada']);
    const ada1 = labs.find((l) => l.name === 'ada')?.learner ?? '';
    const tl = (await (await get(instructorCookie, `/lab/api/labs/${ada1}/timeline`)).json()) as { timeline: Array<{ kind: string; label: string; commands?: string[] }> };
    expect(tl.timeline.map((e) => e.label)).toEqual(['$ echo secret-of-ada', '$ echo nothing > vm.txt', '$ workshop next', 'preflight/vm attempted fail']);
    expect(tl.timeline.at(-1)?.commands).toEqual(['workshop next', 'echo nothing > vm.txt', 'echo secret-of-ada']);
    // a report that the server refuses comes back to the guest's sender as that refusal
    expect((await agent.report(JSON.stringify(report({ step: 'no/such-step' })))).status).toBe(422);
    const cast = await (await get(instructorCookie, `/lab/api/labs/${ada1}/recording`)).text();
    expect(cast.split('\n')[0]).toMatch(/"version":2/);
  });

  it('lets the instructor watch read-only, and take over (logged, with a banner on the learner’s page)', async () => {
    const { labs } = await labsList();
    const id = labs.find((l) => l.name === 'ada')?.learner ?? '';
    const w = await socket(`/lab/api/watch/${id}?mode=watch`, { cookie: instructorCookie, ...origin() });
    if (!('ws' in w)) throw new Error(`watch refused: ${w.refused}`);
    const watcher = w.term;
    await watcher.waitFor('secret-of-ada'); // the backlog from the recording
    adaTerm.ws.send(Buffer.from('echo typed-while-watched\r'));
    await watcher.waitFor('typed-while-watched');
    w.ws.send(Buffer.from('echo from-the-watcher\r')); // read-only: goes nowhere
    await new Promise((r) => setTimeout(r, 200));
    expect(adaTerm.text()).not.toContain('from-the-watcher');
    w.ws.close();

    const o = await socket(`/lab/api/watch/${id}?mode=takeover`, { cookie: instructorCookie, ...origin() });
    if (!('ws' in o)) throw new Error(`take-over refused: ${o.refused}`);
    await adaTerm.waitFor('"typing":true');
    o.ws.send(Buffer.from('echo the-instructor-types\r'));
    await adaTerm.waitFor('the-instructor-types');
    o.ws.close();
    await adaTerm.waitFor('"typing":false');
    await until('the log', async () => (await labsList()).log.some((e) => e.what.includes('gave the terminal back')));
    const { log } = await labsList();
    expect(log.map((e) => `${e.learner}: ${e.what}`)).toEqual(expect.arrayContaining(['ada: the instructor took over the terminal', 'ada: the instructor gave the terminal back']));
    const tl = (await (await get(instructorCookie, `/lab/api/labs/${id}/timeline`)).json()) as { timeline: Array<{ label: string }> };
    expect(tl.timeline.map((e) => e.label)).toContain('$ (instructor) echo the-instructor-types');
  });

  it('lets the instructor rebuild the learner’s step in the lab, or reset it to a fresh VM from the base', async () => {
    const { labs } = await labsList();
    const lab = labs.find((l) => l.name === 'bob');
    const post = (to: unknown) => fetch(`${t.origin}/lab/api/labs/${lab?.learner}/reset`, { method: 'POST', headers: { cookie: instructorCookie, 'content-type': 'application/json' }, body: JSON.stringify({ to }) });
    const agent = driver.need(lab?.vm ?? '').agent;
    expect(await (await post('step')).json()).toEqual({ reset: 'step', step: 'preflight/vm', code: 0 });
    expect(agent?.commands).toContain('workshop goto preflight/vm --restore --yes --json');
    expect((await post('nowhere')).status).toBe(400);
    expect(await (await post('base')).json()).toEqual({ reset: 'base' });
    const after = (await labsList()).labs.find((l) => l.name === 'bob');
    expect(after?.vm).not.toBe(lab?.vm);
    expect(driver.vms.has(lab?.vm ?? '')).toBe(false);
    // a learner cannot reset anything
    expect((await fetch(`${t.origin}/lab/api/labs/${lab?.learner}/reset`, { method: 'POST', headers: { cookie: bob.cookie, 'content-type': 'application/json' }, body: '{"to":"base"}' })).status).toBe(401);
  });

  it('does not record a line that the terminal did not echo (a password)', async () => {
    const { labs } = await labsList();
    const lab = labs.find((l) => l.name === 'ada');
    const agent = driver.need(lab?.vm ?? '').agent;
    if (!agent) throw new Error('no agent');
    // the fake guest echoes everything; a line that never shows on the screen is not echoed
    const before = ((await (await get(instructorCookie, `/lab/api/labs/${lab?.learner}/timeline`)).json()) as { timeline: unknown[] }).timeline.length;
    adaTerm.ws.send(Buffer.from('\x1b[A\r'));
    await new Promise((r) => setTimeout(r, 200));
    const after = ((await (await get(instructorCookie, `/lab/api/labs/${lab?.learner}/timeline`)).json()) as { timeline: unknown[] }).timeline.length;
    expect(after).toBe(before);
  });

  it('gives a removed learner\'s place back: their VM goes, and the learner who found the class full gets a lab', async () => {
    const lab = (await labsList()).labs.find((l) => l.name === 'bob');
    expect(lab?.learner).toBeTruthy();
    const fay = await browser('fay');
    expect(((await (await get(fay, '/lab/api/me')).json()) as { lab: { kind: string } }).lab.kind).toBe('full');
    const res = await fetch(`${t.origin}/api/learners/${lab?.learner}/remove`, { method: 'POST', headers: { cookie: instructorCookie, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    await until('bob\'s VM removed', () => !driver.vms.has(lab?.vm ?? ''), 5000);
    const after = await labsList();
    expect(after.labs.find((l) => l.name === 'bob')).toBeUndefined();
    expect(after.log.some((e) => e.learner === 'bob' && /lab removed/.test(e.what))).toBe(true);
    expect(((await (await get(fay, '/lab/api/me')).json()) as { lab: { kind: string } }).lab.kind).toBe('claimed');
  });

  it('names each learner\'s recording in the grading export; the recording stays on the server', async () => {
    const grades = (await (await get(instructorCookie, '/api/grades.json')).json()) as { learners: Array<{ summary: { learner: string; recording: string | null } }> };
    const ada = grades.learners.find((l) => l.summary.learner === 'ada')?.summary.recording;
    expect(ada).toMatch(new RegExp(`^${stateDir}/.+\\.cast$`));
    const csv = await (await get(instructorCookie, '/api/grades.csv')).text();
    expect(csv.split('\r\n')[0]).toMatch(/,recording,question,first_try,drill,outcome,seconds,round$/);
    expect(csv).toContain(`ada,summary,`);
    expect(csv).toContain(String(ada));
  });
});
