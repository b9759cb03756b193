// Faults: the server killed with -9 while learners report, and a server that is down while a
// learner works. Real `workshop` CLIs with their own homes queue and send; nothing that was
// acknowledged is lost, nothing is stored twice, and the queues drain in order.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outboxDir, queued } from '../../src/classroom/outbox.ts';
import type { Report } from '../../src/classroom/store.ts';
import { isRoot, sh, workshop } from '../helpers/workshop.ts';
import { joinAs, killSender, post, report, serveProcess, sleep, until, type ServeProcess } from './harness.ts';
import { STORES, type StoreFactory } from './stores.ts';

const homes: string[] = [];
const servers: ServeProcess[] = [];

function newHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'ws-learner-'));
  homes.push(h);
  return h;
}

/** The reports a database holds, in event order, with their learner (read through the store, so for every store). */
async function storedReports(factory: StoreFactory, db: string): Promise<Array<{ learner: string; report: Report }>> {
  const store = await factory.open(db);
  try {
    const info = await store.openClass('default'); // the class `serve` opens
    return (await store.snapshot(info.id)).events.flatMap((e) => (e.type === 'report' ? [{ learner: e.learner, report: e.report }] : []));
  } finally {
    await store.close();
  }
}

const queuedIds = (home: string): string[] => queued(home).map((f) => (JSON.parse(readFileSync(join(outboxDir(home), f), 'utf8')) as Report).id);

async function stopSenders(): Promise<void> {
  // the detached senders these tests started: each holds its home's lock with its pid
  for (const h of homes) killSender(h);
}

describe.each(isRoot ? STORES : [])('faults ($name, real CLIs)', (factory) => {
  afterAll(async () => {
    await stopSenders();
    for (const s of servers) await s.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await factory.cleanup();
  });

  it('a learner does 5 steps while the server is down: all 5 arrive, in order, once it is back', async () => {
    const db = await factory.freshDb();
    const first = await serveProcess(db);
    servers.push(first);
    const home = newHome();
    expect((await workshop(home, ['classroom', 'join', first.origin, first.joinCode, '--name', 'ada'])).code).toBe(0);
    await first.kill9();
    const dir = join(home, 'chapters', 'preflight');
    const steps: Array<[string, string[]]> = [
      ['', ['next']], // fails: no vm.txt
      ['', ['hint']],
      ['systemd-detect-virt --vm > vm.txt || true', ['next']],
      ['id -u > uid.txt', ['next']],
      ['', ['hint']],
    ];
    for (const [script, args] of steps) {
      if (script) expect((await sh(dir, script)).code).toBe(0);
      const r = await workshop(home, args, { env: { WORKSHOP_ALLOW_HOST: '1' } });
      expect(r.code, r.stderr).not.toBeNull();
    }
    const order = queuedIds(home);
    expect(order.length).toBeGreaterThanOrEqual(5);
    const status = await workshop(home, ['status']);
    expect(status.stdout).toContain(`class: ${first.origin} (${order.length} queued)`);

    const back = await serveProcess(db, first.port);
    servers.push(back);
    await until('the outbox to drain', () => queued(home).length === 0, 30_000);
    const stored = await storedReports(factory, db);
    expect(stored.map((s) => s.report.id)).toEqual(order);
    expect(stored.map((s) => s.report.kind)).toContain('passed');
    expect((await workshop(home, ['status'])).stdout).toContain('(0 queued)');
  });

  it('kill -9 of the server while learners report, then a restart: nothing acknowledged is lost, nothing twice, the queues drain', async () => {
    const db = await factory.freshDb();
    let server = await serveProcess(db);
    servers.push(server);
    const port = server.port;
    const learners = ['ben', 'cy', 'dee'].map((name) => ({ name, home: newHome(), runs: 0 }));
    for (const l of learners) expect((await workshop(l.home, ['classroom', 'join', server.origin, server.joinCode, '--name', l.name])).code).toBe(0);
    // A script posts too, and keeps the UUIDs the server acknowledged.
    const direct = await joinAs(server.origin, server.joinCode, 'script');
    const acked: string[] = [];
    let stop = false;
    const poster = (async () => {
      while (!stop) {
        const r = report();
        const res = await post(`http://127.0.0.1:${port}`, direct, r).catch(() => ({ status: 0 }));
        if (res.status === 201) acked.push(r.id);
        await sleep(20);
      }
    })();
    const work = Promise.all(
      learners.map(async (l) => {
        while (!stop) {
          const r = await workshop(l.home, ['next']);
          if (r.code === 1) l.runs++; // a failing next: one `attempted` report with attempts = runs
          else throw new Error(`next exited ${r.code}: ${r.stderr}`);
        }
      }),
    );
    await sleep(2500);
    await server.kill9();
    const ackedAtKill = acked.length;
    await sleep(1500);
    server = await serveProcess(db, port);
    servers.push(server);
    await sleep(2500);
    stop = true;
    await Promise.all([work, poster]);
    for (const l of learners) await until(`${l.name}'s outbox to drain`, () => queued(l.home).length === 0, 40_000);

    const stored = await storedReports(factory, db);
    const ids = stored.map((s) => s.report.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ackedAtKill).toBeGreaterThan(10);
    const kept = new Set(ids);
    expect(acked.filter((id) => !kept.has(id))).toEqual([]);
    for (const l of learners) {
      const attempts = stored.filter((s) => s.learner === l.name && s.report.kind === 'attempted').map((s) => s.report.attempts);
      expect(l.runs).toBeGreaterThan(2);
      // every failing next arrived once, in the order it ran
      expect(attempts).toEqual(Array.from({ length: l.runs }, (_, i) => i + 1));
    }
    expect(readdirSync(join(learners[0]?.home ?? '', 'classroom-outbox')).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});
