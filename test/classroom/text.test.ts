// Issue 19, item 3: text from the network never reaches the instructor's terminal, a CSV file or
// a log line raw. A learner's rows carry the escape sequence that set the window title and cleared
// the screen; a hostile server answers `status` with it; both come out as visible escapes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, readSenderState } from '../../src/classroom/outbox.ts';
import { drain } from '../../src/classroom/sender.ts';
import { workshop } from '../helpers/workshop.ts';
import { hostileServer, PWNED, RAW_CONTROL } from './hostile.ts';
import { inProcess, joinAs, killSender, post, report, serveProcess, until, type ServeProcess } from './harness.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');
const SHOWN = '\\e]0;PWNED\\x07\\e[2J';

describe.runIf(sqlite)('control characters from the network', () => {
  let server: ServeProcess;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'ws-text-'));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    if (!sqlite) return;
    server = await serveProcess(await sqlite.freshDb());
    const eve = await joinAs(server.origin, server.joinCode, 'eve');
    const rows = [{ check: `=HYPERLINK("x")${PWNED}`, status: 'fail' as const, expected: `-1${PWNED}`, actual: `@SUM(A1)\u009b31m\u202e`, hint: PWNED }];
    expect((await post(server.origin, eve, report({ rows }))).status).toBe(201);
    await until('the report in the view', async () => {
      const v = (await (await fetch(`${server.origin}/api/class`, { headers: { authorization: `Bearer ${server.token}` } })).json()) as { learners: Array<{ failing: unknown[] }> };
      return v.learners[0]?.failing.length === 1;
    });
  });
  afterAll(async () => {
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  it('`classroom status` shows them as escapes, and sets no title nor clears any screen', async () => {
    const r = await workshop(server.home, ['classroom', 'status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain(`failing: =HYPERLINK("x")${SHOWN}`);
  });

  it('`classroom status --json` keeps the text exact, as JSON escapes', async () => {
    const r = await workshop(server.home, ['classroom', 'status', '--json']);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const v = JSON.parse(r.stdout) as { learners: Array<{ failing: Array<{ check: string; actual: string }> }> };
    expect(v.learners[0]?.failing[0]).toMatchObject({ check: `=HYPERLINK("x")${PWNED}`, actual: '@SUM(A1)\u009b31m\u202e' });
  });

  it('`classroom export --format csv` writes no escape byte and no formula', async () => {
    const r = await workshop(server.home, ['classroom', 'export', '--format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/\r\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain(`'=HYPERLINK(""x"")${SHOWN}`);
    // the server's own file is the same: the page's Export button downloads it
    const direct = await (await fetch(`${server.origin}/api/export.csv`, { headers: { authorization: `Bearer ${server.token}` } })).text();
    expect(direct).toBe(r.stdout);
  });

  it('`classroom export --format json` is valid JSON with nothing raw in it', async () => {
    const r = await workshop(server.home, ['classroom', 'export', '--format', 'json']);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain('\\u001b]0;PWNED');
  });

  it("a hostile server's answer to `status` (names, steps, errors) is shown as escapes too", async () => {
    const evil = `x${PWNED}`;
    const view = {
      class: { name: evil, joinCode: evil },
      steps: [{ id: evil, title: evil }],
      learners: [{ name: evil, current: evil, done: [evil], attempts: 1, hints: 0, stuck: true, stuckReason: evil, lastSeen: evil, failing: [] }],
      commonFailures: [{ step: evil, check: evil, expected: evil, actual: evil, count: 1, learners: [evil] }],
      alerts: [{ at: evil, message: evil }],
    };
    const h = await hostileServer((req) => (req.url === '/api/class' ? { status: 200, body: JSON.stringify(view) } : { status: 500, body: JSON.stringify({ error: evil }) }));
    try {
      const r = await workshop(tmp(), ['classroom', 'status', '--url', `${h.origin}/?token=x`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
      expect(r.stdout).toContain(`Class x${SHOWN}`);
      const e = await workshop(tmp(), ['classroom', 'export', '--url', `${h.origin}/?token=x`]);
      expect(e.code).toBe(3);
      expect(e.stderr).toContain(`the class server answered 500 for /api/export.csv: x${SHOWN}`);
      expect(e.stderr).not.toMatch(RAW_CONTROL);
    } finally {
      await h.close();
    }
  });

  it("a hostile server's refusal, and a tampered sender state, reach `workshop status` as escapes", async () => {
    const h = await hostileServer(() => ({ status: 422, body: JSON.stringify({ error: `no${PWNED}` }) }));
    const home = tmp();
    try {
      writeFileSync(join(home, 'classroom.json'), JSON.stringify({ url: h.origin, name: 'ada', token: 'a'.repeat(32), joinedAt: '' }));
      enqueue(home, report());
      expect(await drain(home, { idleMs: 0 })).toMatchObject({ rejected: 1 });
      expect(readSenderState(home).lastError).toBe(`a report was rejected: 422 no${SHOWN}`);
      // a state file written by anyone: still no raw byte on the learner's terminal
      writeFileSync(join(home, 'classroom.json'), JSON.stringify({ url: 'http://127.0.0.1:47', name: 'ada', token: 'a'.repeat(32), joinedAt: '' }));
      writeFileSync(join(home, 'classroom-sender.json'), JSON.stringify({ lastError: `raw${PWNED}`, lastErrorAt: null, lastSentAt: null }));
      enqueue(home, report());
      const r = await workshop(home, ['status']);
      expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
      expect(r.stdout).toContain(`class: http://127.0.0.1:47 (1 queued) last try: raw${SHOWN}`);
    } finally {
      killSender(home);
      await h.close();
    }
  });

  it('the server logs a failure with the escapes visible, and answers "internal error"', async () => {
    if (!sqlite) return;
    const lines: string[] = [];
    const t = await inProcess(sqlite, { log: (l) => lines.push(l) });
    try {
      t.store.join = async () => {
        throw new Error(`join failed${PWNED}`);
      };
      const bad = await fetch(`${t.origin}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: t.joinCode, name: 'y' }) });
      expect(bad.status).toBe(500);
      expect(await bad.json()).toEqual({ error: 'internal error' });
      expect(lines).toEqual([`classroom: join failed${SHOWN}`]);
    } finally {
      await t.close();
    }
  });
});
