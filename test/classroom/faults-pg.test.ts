// Faults of a class served by two `workshop classroom serve` processes on one PostgreSQL, behind
// nginx with docs/classroom-nginx.conf: kill -9 of one instance mid-class, and a PostgreSQL
// restart mid-class. Learners are real homes joined with `workshop classroom join` through the
// proxy, whose reports are queued in their outboxes and sent by the sender's own drain().
// Nothing acknowledged may be lost, nothing stored twice, and an SSE client that stays connected
// misses nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { enqueue, queued, readMembership } from '../../src/classroom/outbox.ts';
import { drain } from '../../src/classroom/sender.ts';
import { workshop } from '../helpers/workshop.ts';
import { skipNginx, startNginx, type RunningNginx } from './nginx.ts';
import { skipPg, startPg, type ThrowawayPg } from './pg.ts';
import { reportAt, serveProcess, sleep, type ServeProcess } from './harness.ts';
import { openSse, type SseClient } from './sse-client.ts';

const LEARNERS = 24;

/** Whether the instance still answers the instructor's API (a killed one does not). */
async function serving(s: ServeProcess): Promise<boolean> {
  try {
    return (await fetch(`${s.origin}/api/class`, { headers: { authorization: `Bearer ${s.token}` }, signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

const reportIds = (sse: SseClient): Set<string> => new Set(sse.events.map((e) => (e.data as { report?: { id?: string } }).report?.id ?? '').filter(Boolean));

interface Class {
  pg: ThrowawayPg;
  db: string;
  a: ServeProcess;
  b: ServeProcess;
  proxy: RunningNginx;
  homes: string[];
}

/**
 * Every learner queues a report every `everyMs` and a sender drains its outbox, for `ms`; `fault`
 * runs at `faultAt` ms. Then it waits until every outbox is empty, and returns the UUIDs queued.
 */
async function runClass(c: Class, o: { ms: number; everyMs: number; faultAt: number; fault: () => Promise<void> }): Promise<string[]> {
  const sent: string[] = [];
  let stop = false;
  const learner = async (home: string, k: number): Promise<void> => {
    await sleep((k * o.everyMs) / c.homes.length); // spread the learners over the period
    for (let i = 0; !stop; i++) {
      const r = reportAt(i, { rows: [{ check: `check ${i}`, status: 'fail', expected: 'x', actual: 'y', hint: '' }] });
      if (!enqueue(home, r)) throw new Error('outbox full');
      sent.push(r.id);
      await sleep(o.everyMs);
    }
  };
  const sender = async (home: string): Promise<void> => {
    while (!stop || queued(home).length > 0) {
      const r = await drain(home, { idleMs: 100, giveUpMs: 60_000, maxBackoffMs: 500 });
      if (r.stopped && r.stopped !== 'busy') throw new Error(`sender of ${home} stopped: ${r.stopped}`);
      await sleep(20);
    }
  };
  const senders = c.homes.map((h) => sender(h));
  const learners = c.homes.map((h, k) => learner(h, k));
  await sleep(o.faultAt);
  await o.fault();
  await sleep(o.ms - o.faultAt);
  stop = true;
  await Promise.all(learners);
  const drained = Promise.all(senders);
  await Promise.race([drained, sleep(60_000).then(() => Promise.reject(new Error(`outboxes not drained: ${c.homes.map((h) => queued(h).length).join(',')}`)))]);
  return sent;
}

async function storedReportIds(db: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query<{ report_id: string }>("SELECT report_id FROM events WHERE type = 'report' ORDER BY id")).rows.map((r) => r.report_id);
  } finally {
    await client.end();
  }
}

describe.skipIf(skipPg() || skipNginx())('a class on two servers behind nginx, under faults', () => {
  let server: ThrowawayPg | undefined;
  let n = 0;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    server = await startPg();
  });
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.destroy();
  });

  async function openClass(): Promise<Class> {
    if (!server) throw new Error('no PostgreSQL');
    const db = await server.createDatabase(`ws_faults_${++n}`);
    const [a, b] = await Promise.all([serveProcess(db), serveProcess(db)]);
    cleanups.push(() => a.stop(), () => b.stop());
    expect(b.joinCode).toBe(a.joinCode);
    const proxy = await startNginx([a.port, b.port]);
    cleanups.push(() => proxy.stop());
    const homes: string[] = [];
    for (let i = 0; i < LEARNERS; i++) {
      const home = mkdtempSync(join(tmpdir(), 'ws-learner-'));
      homes.push(home);
      cleanups.push(async () => rmSync(home, { recursive: true, force: true }));
    }
    // Joined through the proxy, as learners would: their reporters only know the proxy's URL.
    for (let i = 0; i < homes.length; i += 8) {
      const ran = await Promise.all(homes.slice(i, i + 8).map((h, k) => workshop(h, ['classroom', 'join', proxy.url, a.joinCode, '--name', `learner ${i + k}`])));
      for (const r of ran) expect(r.code, r.stderr).toBe(0);
    }
    expect(readMembership(homes[0] ?? '')?.url).toBe(proxy.url);
    return { pg: server, db, a, b, proxy, homes };
  }

  it('kill -9 of one instance mid-class: the reporters fail over through nginx, nothing acknowledged is lost or doubled', async () => {
    const c = await openClass();
    const onB = await openSse(`${c.b.origin}/api/events`, c.b.token);
    // The dashboard's stream through the proxy; it may be on A, and then it must reconnect.
    const viaProxy = await openSse(`${c.proxy.url}/api/events`, c.a.token, { reconnect: true, retryMs: 200 });
    cleanups.push(async () => {
      onB.close();
      viaProxy.close();
    });
    const sent = await runClass(c, { ms: 8000, everyMs: 500, faultAt: 3000, fault: () => c.a.kill9() });
    expect(await serving(c.a)).toBe(false);
    expect(await serving(c.b)).toBe(true);
    const stored = await storedReportIds(c.db);
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored.length).toBe(sent.length);
    expect(new Set(stored)).toEqual(new Set(sent));
    // Every report also reached B's stream, which stayed connected, and the proxy's stream after
    // its reconnect (Last-Event-ID replayed from the database), each event once.
    await sleep(500);
    const missedB = sent.filter((id) => !reportIds(onB).has(id));
    const missedProxy = sent.filter((id) => !reportIds(viaProxy).has(id));
    console.log(`kill -9: ${sent.length} reports, ${stored.length} stored; missed by B's SSE ${missedB.length}, by the proxy's SSE ${missedProxy.length} (${viaProxy.connects} connects)`);
    expect(missedB).toEqual([]);
    expect(missedProxy).toEqual([]);
    expect(onB.duplicates).toEqual([]);
    expect(viaProxy.duplicates).toEqual([]);
  });

  it('a PostgreSQL restart mid-class: both servers reconnect, the queues drain, connected streams miss nothing', async () => {
    const c = await openClass();
    const onA = await openSse(`${c.a.origin}/api/events`, c.a.token);
    const onB = await openSse(`${c.b.origin}/api/events`, c.b.token);
    cleanups.push(async () => {
      onA.close();
      onB.close();
    });
    const sent = await runClass(c, {
      ms: 8000,
      everyMs: 500,
      faultAt: 2500,
      // a crash (immediate: recovery on start), then, once it is back, a clean restart
      fault: async () => {
        await c.pg.restart('immediate');
        await sleep(1500);
        await c.pg.restart('fast');
      },
    });
    expect(await serving(c.a)).toBe(true);
    expect(await serving(c.b)).toBe(true);
    const stored = await storedReportIds(c.db);
    expect(new Set(stored).size).toBe(stored.length);
    expect(new Set(stored)).toEqual(new Set(sent));
    await sleep(500);
    const missedA = sent.filter((id) => !reportIds(onA).has(id));
    const missedB = sent.filter((id) => !reportIds(onB).has(id));
    console.log(`PostgreSQL restart: ${sent.length} reports, ${stored.length} stored; missed by A's SSE ${missedA.length}, by B's ${missedB.length}`);
    expect(missedA).toEqual([]);
    expect(missedB).toEqual([]);
    expect(onA.duplicates).toEqual([]);
    expect(onB.duplicates).toEqual([]);
    expect(onA.connects).toBe(1);
    expect(onB.connects).toBe(1);
  });
});
