// Load on loopback: 300 learners each post one report every 2 s for 60 s to a real
// `workshop classroom serve` (SQLite), while one SSE client watches. p99 < 50 ms, nothing lost,
// every event seen. The figures go to test-results/classroom-load.json (one row per store).
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/workshop.ts';
import { cpuMeter, joinAs, LOAD_GOAL_MS, measureForGoal, mergeLoadRow, PACK, post, report, serveProcess, sleep, sseIds, until, type ServeProcess } from './harness.ts';
import { STORES } from './stores.ts';

const LEARNERS = Number(process.env['WORKSHOP_LOAD_LEARNERS'] ?? 300);
const PERIOD_MS = 2000;
const DURATION_MS = Number(process.env['WORKSHOP_LOAD_MS'] ?? 60_000);
const RESULTS = join(REPO, 'test-results', 'classroom-load.json');
const sqlite = STORES.find((s) => s.name === 'sqlite');
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const round = (x: number): number => Math.round(x * 10) / 10;

// PostgreSQL has its own load test over two instances (load-pg.test.ts), writing its own row.
describe.runIf(sqlite)('load on loopback (sqlite)', () => {
  let server: ServeProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    await sqlite?.cleanup();
  });

  it(`${LEARNERS} learners x 1 report / 2 s x ${DURATION_MS / 1000} s: p99 < 50 ms, none lost, the SSE client sees every event`, async () => {
    if (!sqlite) return;
    // One measurement on a fresh database and server; nothing may be lost or missed in any of them,
    // and the latency goal is the p99.
    const measure = async (attempt: number) => {
      const db = await sqlite.freshDb();
      // every simulated learner joins from 127.0.0.1: lift the per-address join limit for them
      server = await serveProcess(db, 0, ['--joins-per-address', String(LEARNERS + 10)]);
      const s = server;
      const tokens: string[] = [];
      for (let i = 0; i < LEARNERS; i++) tokens.push(await joinAs(s.origin, s.joinCode, `learner ${String(i).padStart(3, '0')}`));
      const sse = await sseIds(s.origin, s.token);
      const steps = PACK.steps.map((x) => x.id);
      const latencies: number[] = [];
      const serverTimes: number[] = [];
      const acked: number[] = [];
      let failed = 0;
      const cpu = cpuMeter();
      const start = performance.now();
      await Promise.all(
        tokens.map(async (token, i) => {
          // spread the learners over the period, as a room does
          await sleep((i * PERIOD_MS) / LEARNERS);
          for (let n = 0; performance.now() - start < DURATION_MS; n++) {
            const due = start + (i * PERIOD_MS) / LEARNERS + (n + 1) * PERIOD_MS;
            const t0 = performance.now();
            const r = await post(s.origin, token, report({ step: steps[(i + n) % steps.length] ?? 'preflight/vm', attempts: n + 1 }));
            latencies.push(performance.now() - t0);
            serverTimes.push(r.serverMs);
            if (r.status === 201 && r.body.eventId !== undefined) acked.push(r.body.eventId);
            else failed++;
            await sleep(Math.max(0, due - performance.now()));
          }
        }),
      );
      const seen = new Set(sse.ids);
      await until('the SSE client to catch up', () => acked.every((id) => seen.has(id)) || (sse.ids.forEach((id) => seen.add(id)), false), 10_000).catch(() => undefined);
      for (const id of sse.ids) seen.add(id);
      sse.close();
      await s.stop();
      server = undefined;
      // Read what the database holds after a clean stop: every acknowledged report must be there.
      const check = new DatabaseSync(db, { readOnly: true });
      const inDb = new Set((check.prepare("SELECT id FROM events WHERE type = 'report'").all() as Array<{ id: number }>).map((r) => r.id));
      check.close();
      const sorted = [...latencies].sort((a, b) => a - b);
      const ownTimes = [...serverTimes].sort((a, b) => a - b);
      const row = {
        store: 'sqlite',
        p50: round(quantile(sorted, 0.5)),
        p99: round(quantile(sorted, 0.99)),
        reports: acked.length,
        lost: failed + acked.filter((id) => !inDb.has(id)).length,
        eventsMissed: acked.filter((id) => !seen.has(id)).length,
        learners: LEARNERS,
        seconds: DURATION_MS / 1000,
        // the server's own time per report (Server-Timing), apart from the network and the client
        serverP50: round(quantile(ownTimes, 0.5)),
        serverP99: round(quantile(ownTimes, 0.99)),
        loadAverage: Math.round(loadavg()[0] ?? 0),
        ...cpu(),
        attempt,
      };
      console.log(`classroom load: ${JSON.stringify(row)} p90 ${round(quantile(sorted, 0.9))} p95 ${round(quantile(sorted, 0.95))} max ${round(sorted.at(-1) ?? 0)} over 200 ms: ${sorted.filter((x) => x > 200).length}`);
      expect(acked.length).toBeGreaterThanOrEqual(Math.floor((LEARNERS * DURATION_MS) / PERIOD_MS) - LEARNERS);
      expect(row.lost).toBe(0);
      expect(row.eventsMissed).toBe(0);
      return row;
    };
    const row = await measureForGoal('classroom load', measure);
    mergeLoadRow(RESULTS, row);
    expect(row.p99).toBeLessThan(LOAD_GOAL_MS);
  }, 330_000);
});
