// Issue 19, items 13 and 15. The learner's sender against a hostile server: every delay the
// server asks for is capped, and a failing server is retried with exponential backoff and jitter
// (a 429 with Retry-After: 99999999999 once made it post 937 times in 6 s). And the dashboard's
// stream after the server restarted on another database: a Last-Event-ID beyond the newest event
// replays the class from the start, saying so.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoff, MAX_SERVER_DELAY_MS, retryAfterMs } from '../../src/classroom/http.ts';
import { enqueue, queued, senderLockPath } from '../../src/classroom/outbox.ts';
import { drain } from '../../src/classroom/sender.ts';
import { hostileServer, type HostileAnswer } from './hostile.ts';
import { inProcess, joinAs, post, report, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const dirs: string[] = [];
const home = (url: string): string => {
  const d = mkdtempSync(join(tmpdir(), 'ws-network-'));
  dirs.push(d);
  writeFileSync(join(d, 'classroom.json'), JSON.stringify({ url, name: 'ada', token: 'a'.repeat(32), joinedAt: '' }));
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('delays that come from the network', () => {
  it.each<[string | null, number]>([
    ['2', 2000],
    ['0', 1000],
    ['99999999999', MAX_SERVER_DELAY_MS],
    ['-5', 1000],
    ['1e9', 1000],
    ['soon', 1000],
    [null, 1000],
    ['Wed, 21 Oct 2099 07:28:00 GMT', MAX_SERVER_DELAY_MS],
    ['Wed, 21 Oct 2015 07:28:00 GMT', 1000],
  ])('Retry-After %j waits %i ms', (header, ms) => expect(retryAfterMs(header, 1000)).toBe(ms));

  it('backs off exponentially, with jitter between half and all of each step, up to the cap', () => {
    let base = 250;
    const steps: Array<[number, number]> = [];
    for (let i = 0; i < 7; i++) {
      const lo = backoff(base, 5000, () => 0);
      const hi = backoff(base, 5000, () => 1);
      steps.push([lo.delayMs, hi.delayMs]);
      base = lo.next;
    }
    expect(steps).toEqual([[125, 250], [250, 500], [500, 1000], [1000, 2000], [2000, 4000], [2500, 5000], [2500, 5000]]);
  });
});

describe('the sender against a hostile server', () => {
  const run = async (answer: () => HostileAnswer, ms: number) => {
    const h = await hostileServer(answer);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const d = home(h.origin);
      enqueue(d, report());
      const t0 = Date.now();
      const r = await drain(d, { idleMs: 0, giveUpMs: ms, maxBackoffMs: 5000 });
      return { r, posts: h.requests.length, elapsed: Date.now() - t0, warnings, queued: queued(d).length };
    } finally {
      process.off('warning', onWarning);
      await h.close();
    }
  };

  it('waits at most a minute for Retry-After: 99999999999, and never overflows the timer to 1 ms', async () => {
    const out = await run(() => ({ status: 429, headers: { 'retry-after': '99999999999' }, body: '{}' }), 3000);
    expect(out.posts).toBeLessThanOrEqual(2);
    expect(out.warnings).not.toContain('TimeoutOverflowWarning');
    expect(out.r).toMatchObject({ sent: 0, stopped: 'unreachable', left: 1 });
    expect(out.elapsed).toBeLessThan(6000);
  });

  it('backs off from a server that fails every request: a few posts in 4 s, the report kept', async () => {
    const out = await run(() => ({ status: 503, body: '{}' }), 4000);
    expect(out.posts).toBeGreaterThanOrEqual(3);
    expect(out.posts).toBeLessThanOrEqual(7);
    expect(out.queued).toBe(1);
  });

  it('follows no redirect (it would carry the token elsewhere), and stops', async () => {
    const other = await hostileServer(() => ({ status: 201, body: '{}' }));
    try {
      const out = await run(() => ({ status: 307, headers: { location: `${other.origin}/api/reports` }, body: '' }), 2000);
      expect(out.r.stopped).toMatch(/the server answered 307, which a class server never does/);
      expect(other.requests).toHaveLength(0);
      expect(out.queued).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('reads no more than a few KiB of an answer, however long', async () => {
    const out = await run(() => ({ status: 400, body: JSON.stringify({ error: 'x'.repeat(20 * 2 ** 20) }) }), 2000);
    expect(out.r).toMatchObject({ rejected: 1, left: 0 });
  });

  it("takes over a lock whose PID now belongs to another process (the engine's lock, by start time)", async () => {
    const h = await hostileServer(() => ({ status: 201, body: '{}' }));
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const d = home(h.origin);
      enqueue(d, report());
      // a lock in the old PID-only format, naming a live process that is not a sender
      writeFileSync(senderLockPath(d), `${sleeper.pid}\n`);
      const old = new Date(Date.now() - 60_000);
      utimesSync(senderLockPath(d), old, old);
      expect(await drain(d, { idleMs: 0 })).toMatchObject({ sent: 1, stopped: null });
      // and one in the engine's format: the same PID, but not the start time it had then
      enqueue(d, report());
      writeFileSync(senderLockPath(d), JSON.stringify({ pid: sleeper.pid, start: 1, command: 'classroom __send', at: old.toISOString() }));
      expect(await drain(d, { idleMs: 0 })).toMatchObject({ sent: 1, stopped: null });
      expect(execFileSync('ls', [d], { encoding: 'utf8' })).not.toMatch(/lock/);
    } finally {
      sleeper.kill('SIGKILL');
      await h.close();
    }
  });
});

describe.each(STORES)('the event stream after a restart on another database ($name)', (factory) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await inProcess(factory, { heartbeatMs: 100 });
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    for (let i = 0; i < 3; i++) await post(t.origin, ada, report());
  });
  afterAll(async () => {
    await t.close();
    await factory.cleanup();
  });

  /** The raw stream until it holds `n` events (or a few seconds pass). */
  async function stream(headers: Record<string, string>, query = '', n = 4): Promise<string> {
    const res = await fetch(`${t.origin}/api/events${query}`, { headers: { authorization: `Bearer ${t.token}`, ...headers }, signal: AbortSignal.timeout(5000) });
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    try {
      while (reader && (text.match(/^id: /gm) ?? []).length < n) text += (await reader.read()).value ?? '';
    } catch {
      // the time limit: return what came
    }
    await reader?.cancel().catch(() => undefined);
    return text;
  }

  it('replays from the start, after saying so, for a Last-Event-ID beyond the newest event', async () => {
    const text = await stream({ 'last-event-id': '999999999' });
    const newest = await t.store.maxEventId(t.server.info.id);
    expect(text).toMatch(new RegExp(`^retry: 2000\\n\\n(: ping\\n\\n)*event: restarted\\ndata: \\{"lastEventId":999999999,"newestEventId":${newest}\\}\\n\\n`));
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual((await t.store.eventsAfter(t.server.info.id, 0, 10)).map((e) => e.id));
  });

  it('does the same for ?lastEventId= (the page opens its stream with it), and nothing of the kind for an id it has', async () => {
    expect(await stream({}, '?lastEventId=999999999')).toContain('event: restarted');
    const newest = await t.store.maxEventId(t.server.info.id);
    const text = await stream({ 'last-event-id': String(newest - 1) }, '', 1);
    expect(text).not.toContain('restarted');
    expect([...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([newest]);
  });
});
