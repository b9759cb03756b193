// Two class servers on one PostgreSQL database, in this process: a report posted to one reaches
// the other's SSE stream; and both behind nginx with the committed docs/classroom-nginx.conf.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPack } from '../../src/classroom/pack.ts';
import { startServer, type RunningServer } from '../../src/classroom/server.ts';
import { openPgStore, type PgStore } from '../../src/classroom/store-pg.ts';
import type { Report } from '../../src/classroom/store.ts';
import { report as harnessReport, until } from './harness.ts';
import { skipNginx, startNginx, type RunningNginx } from './nginx.ts';
import { skipPg, startPg, type ThrowawayPg } from './pg.ts';
import { openSse, type SseClient } from './sse-client.ts';

const LESSONS = fileURLToPath(new URL('../../lessons', import.meta.url));
const PAGE = fileURLToPath(new URL('../../src/classroom/page', import.meta.url));
const pack = readPack(LESSONS);
const step = pack.steps[0]?.id ?? 'missing';

const report = (over: Partial<Report> = {}): Report => harnessReport({ step, ...over });

async function post(base: string, path: string, token: string | undefined, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(new URL(path, base), { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}


describe.skipIf(skipPg())('two class servers on one PostgreSQL database', () => {
  let pg: ThrowawayPg | undefined;
  const stores: PgStore[] = [];
  const servers: RunningServer[] = [];
  const streams: SseClient[] = [];
  let a: RunningServer;
  let b: RunningServer;

  const serve = async (url: string): Promise<RunningServer> => {
    // pollMs out of reach of the test: delivery across instances must come from NOTIFY
    const store = await openPgStore(url, { pollMs: 600_000 });
    stores.push(store);
    const s = await startServer({ store, pack, className: 'default', host: '127.0.0.1', port: 0, thresholds: { idleAfterMs: 300_000, stuckAfterMs: 600_000, stuckAttempts: 3 }, pageDir: PAGE });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    pg = await startPg();
    const url = await pg.createDatabase('ws_instances');
    [a, b] = await Promise.all([serve(url), serve(url)]);
  });
  afterAll(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const s of servers.splice(0).reverse()) await s.close().catch(() => undefined);
    for (const s of stores.splice(0).reverse()) await s.close().catch(() => undefined);
    await pg?.destroy();
  });

  it('prints the same class on both: join code and instructor token', () => {
    expect(b.info).toEqual(a.info);
  });

  it("posts a report to instance A and receives the event from instance B's SSE within 1 s", async () => {
    const sse = await openSse(`${b.origin}/api/events`, b.info.instructorToken);
    streams.push(sse);
    const joined = await post(a.origin, '/api/join', undefined, { code: a.info.joinCode, name: 'ada' });
    expect(joined.status).toBe(201);
    const token = String(joined.json['token']);
    // the token handed out by A is accepted by B
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = report({ attempts: i + 1 });
      const t0 = performance.now();
      const res = await post(a.origin, '/api/reports', token, r);
      expect(res.status).toBe(201);
      await until(`report ${i} on B`, () => sse.events.some((e) => (e.data as { report?: { id?: string } }).report?.id === r.id), 1000);
      const ev = sse.events.find((e) => (e.data as { report?: { id?: string } }).report?.id === r.id);
      latencies.push((ev?.at ?? Infinity) - t0);
    }
    latencies.sort((x, y) => x - y);
    console.log(`A->B SSE latency over 20 reports: p50 ${latencies[10]?.toFixed(1)} ms, max ${latencies[19]?.toFixed(1)} ms`);
    expect(latencies[19]).toBeLessThan(1000);
    expect((await post(b.origin, '/api/reports', token, report())).status).toBe(201);
    expect(sse.duplicates).toEqual([]);
  });

  it('replays from Last-Event-ID on the other instance: event ids are global', async () => {
    const j = await post(b.origin, '/api/join', undefined, { code: b.info.joinCode, name: 'bob' });
    const token = String(j.json['token']);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(Number((await post(a.origin, '/api/reports', token, report())).json['eventId']));
    const third = ids[2] ?? 0;
    const res = await fetch(`${b.origin}/api/events`, { headers: { authorization: `Bearer ${b.info.instructorToken}`, 'last-event-id': String(third) } });
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (reader && !(text.includes(`id: ${ids[4]}\n`))) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader?.cancel();
    const replayed = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(replayed).toEqual(ids.slice(3));
  });

  describe.skipIf(skipNginx())('behind nginx (docs/classroom-nginx.conf)', () => {
    let proxy: RunningNginx | undefined;
    beforeAll(async () => {
      proxy = await startNginx([a.port, b.port]);
    });
    afterAll(async () => {
      await proxy?.stop();
    });

    it('joins, posts and streams through the proxy, to whichever instance', async () => {
      if (!proxy) throw new Error('no proxy');
      const sse = await openSse(`${proxy.url}/api/events`, a.info.instructorToken);
      streams.push(sse);
      const j = await post(proxy.url, '/api/join', undefined, { code: a.info.joinCode, name: 'carol' });
      expect(j.status).toBe(201);
      const token = String(j.json['token']);
      const sent: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = report({ attempts: i + 1 });
        sent.push(r.id);
        expect((await post(proxy.url, '/api/reports', token, r)).status).toBe(201);
      }
      const got = (): string[] => sse.events.map((e) => (e.data as { report?: { id?: string } }).report?.id ?? '').filter((id) => sent.includes(id));
      // unbuffered: each event arrives while the stream stays open, not when it closes
      await until('the 10 reports through nginx', () => got().length === 10, 2000);
      expect(got()).toEqual(sent);
      const cls = await fetch(`${proxy.url}/api/class`, { headers: { authorization: `Bearer ${a.info.instructorToken}` } });
      expect(cls.status).toBe(200);
      const body = (await cls.json()) as { learners: Array<{ name: string }> };
      expect(body.learners.map((l) => l.name)).toContain('carol');
    });
  });
});
