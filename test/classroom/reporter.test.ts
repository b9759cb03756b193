// The learner's side: what a report holds (and does not), the outbox, and the sender's drain
// against a real server: in order, once, rejected reports set aside, an unreachable server kept for later.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/check.ts';
import { droppedCount, enqueue, outboxDir, outboxLine, queued, rejectedDir, writerOf } from '../../src/classroom/outbox.ts';
import { classReporter, clip, reportOf } from '../../src/classroom/reporter.ts';
import { drain } from '../../src/classroom/sender.ts';
import type { JourneyEvent } from '../../src/engine/events.ts';
import { inProcess, joinAs, report, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const dirs: string[] = [];
const home = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ws-reporter-'));
  dirs.push(d);
  return d;
};
/** A token of the shape the server issues (a home holding anything else counts as not joined). */
const FAKE_TOKEN = 'forged-token-of-32-characters-xx';
const join_ = (h: string, url: string, token: string) => writeFileSync(join(h, 'classroom.json'), JSON.stringify({ url, name: 'ada', token, joinedAt: '' }), { mode: 0o600 });
const AT = '2026-12-01T10:00:00.000Z';
const results: CheckResult[] = [
  { status: 'pass', check: 'busybox is there', actual: '/bin/busybox' },
  { status: 'fail', check: 'veth on br0', expected: 'master br0', actual: 'no master', hint: 'ip link set veth0 master br0' },
  { status: 'error', check: 'ip -j link', error: 'ip: not found' },
];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a report', () => {
  it('holds the step, the outcome, the rows as shown, attempts, hints and a time; nothing else', () => {
    const e: JourneyEvent = { type: 'attempted', at: AT, step: 'net/veth', command: 'next', status: 'fail', results, attempts: 2, hintsShown: 1 };
    const r = reportOf(e, '00000000-0000-4000-8000-000000000000');
    expect(r).toEqual({
      id: '00000000-0000-4000-8000-000000000000',
      kind: 'attempted',
      step: 'net/veth',
      command: 'next',
      next: null,
      outcome: 'fail',
      rows: [
        { check: 'busybox is there', status: 'pass', expected: '', actual: '/bin/busybox', hint: '' },
        { check: 'veth on br0', status: 'fail', expected: 'master br0', actual: 'no master', hint: 'ip link set veth0 master br0' },
        { check: 'ip -j link', status: 'error', expected: '', actual: 'ip: not found', hint: '' },
      ],
      attempts: 2,
      hints: 1,
      at: AT,
    });
  });

  it.each<[JourneyEvent, Partial<ReturnType<typeof reportOf>>]>([
    [{ type: 'started', at: AT, chapter: 'net' }, { kind: 'started', step: 'net', outcome: null, rows: [] }],
    [{ type: 'reset', at: AT, chapter: 'net' }, { kind: 'reset', step: 'net' }],
    [{ type: 'passed', at: AT, step: 'net/veth', by: 'solve', attempts: 3, hintsShown: 2, next: 'net/addr' }, { kind: 'passed', command: 'solve', next: 'net/addr', attempts: 3, hints: 2 }],
    [{ type: 'hinted', at: AT, step: 'net/veth', hintsShown: 2, total: 3 }, { kind: 'hinted', hints: 2 }],
    [{ type: 'solved', at: AT, step: 'net/veth', status: 'pass', results: [], attempts: 1, hintsShown: 0 }, { kind: 'solved', command: 'solve', outcome: 'pass' }],
    [
      { type: 'answered', at: AT, step: 'net/netns', question: 'fresh-lo', result: 'wrong', tries: 1 },
      { kind: 'answered', step: 'net/netns', command: '', outcome: 'fail', attempts: 1, rows: [{ check: 'fresh-lo', status: 'fail', expected: '', actual: '', hint: '' }] },
    ],
  ])('%j', (e, expected) => expect(reportOf(e)).toMatchObject(expected));

  it('fits the server limits: at most 50 rows, each under 2 KiB of UTF-8', () => {
    const many: CheckResult[] = Array.from({ length: 60 }, (_, i) => ({ status: 'fail', check: `c${i}`, expected: 'é'.repeat(2000), actual: 'x'.repeat(5000), hint: '✔'.repeat(900) }));
    const r = reportOf({ type: 'attempted', at: AT, step: 's/t', command: 'check', status: 'fail', results: many, attempts: 0, hintsShown: 0 });
    expect(r.rows).toHaveLength(50);
    for (const row of r.rows) expect(Buffer.byteLength(row.check + row.expected + row.actual + row.hint)).toBeLessThanOrEqual(2048);
    expect(r.rows[0]?.actual.endsWith('…')).toBe(true);
    expect(clip('short', 10)).toBe('short');
    expect(Buffer.byteLength(clip('ééééé', 5))).toBeLessThanOrEqual(5);
  });
});

describe('the outbox', () => {
  it('is not there until a class is joined: classReporter is undefined', () => {
    expect(classReporter(home(), null)).toBeUndefined();
  });

  it('queues each event of a joined home in order, and status counts them', async () => {
    const h = home();
    join_(h, 'http://127.0.0.1:47', FAKE_TOKEN);
    const listener = classReporter(h, null);
    if (!listener) throw new Error('no listener for a joined home');
    for (let i = 1; i <= 30; i++) await listener({ type: 'hinted', at: AT, step: 'a/b', hintsShown: i, total: 99 });
    const files = queued(h);
    expect(files.map((f) => (JSON.parse(readFileSync(join(h, 'classroom-outbox', f), 'utf8')) as { hints: number }).hints)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(outboxLine(h)).toBe('class: http://127.0.0.1:47 (30 queued)');
  });

  it('is bounded: past the limit a report is dropped and counted, not queued', () => {
    const h = home();
    for (let i = 0; i < 5; i++) expect(enqueue(h, report(), 3)).toBe(i < 3);
    expect(queued(h)).toHaveLength(3);
    expect(droppedCount(h)).toBe(2);
  });
});

describe.each(STORES)('the sender against a server on $name', (factory) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await inProcess(factory);
  });
  afterAll(async () => {
    await t.close();
    await factory.cleanup();
  });

  it('sends the queue in order, once; a report the server refuses is set aside and the rest go on', async () => {
    const h = home();
    join_(h, t.origin, await joinAs(t.origin, t.joinCode, `ada-${factory.name}`));
    const sent = [report({ attempts: 1 }), report({ attempts: 2, step: 'no/such-step' }), report({ attempts: 3 })];
    for (const r of sent) enqueue(h, r);
    const r1 = await drain(h, { idleMs: 0 });
    expect(r1).toEqual({ sent: 2, rejected: 1, left: 0, stopped: null });
    expect(readdirSync(rejectedDir(h))).toHaveLength(1);
    const stored = (await t.store.snapshot(t.server.info.id)).events.flatMap((e) => (e.type === 'report' && e.learner === `ada-${factory.name}` ? [e.report.id] : []));
    expect(stored).toEqual([sent[0]?.id, sent[2]?.id]);
    expect(outboxLine(h)).toBe(`class: ${t.origin} (0 queued)`);
  });

  it('stops on a token the server does not know, keeping the queue', async () => {
    const h = home();
    join_(h, t.origin, FAKE_TOKEN);
    enqueue(h, report());
    const r = await drain(h, { idleMs: 0 });
    expect(r.stopped).toMatch(/^token rejected/);
    expect(r.left).toBe(1);
  });

  it('keeps everything while the server is unreachable, and says why in status', async () => {
    const h = home();
    join_(h, 'http://127.0.0.1:47', FAKE_TOKEN);
    enqueue(h, report());
    enqueue(h, report());
    const r = await drain(h, { idleMs: 0, giveUpMs: 300, maxBackoffMs: 100 });
    expect(r).toMatchObject({ sent: 0, left: 2, stopped: 'unreachable' });
    expect(outboxLine(h)).toMatch(/^class: http:\/\/127\.0\.0\.1:47 \(2 queued\) last try: cannot reach http:\/\/127\.0\.0\.1:47 \(ECONNREFUSED\)$/);
  });

  it('sends a report once the command that queued it has ended, so as not to compete with it', async () => {
    const h = home();
    join_(h, t.origin, await joinAs(t.origin, t.joinCode, `bea-${factory.name}`));
    enqueue(h, report());
    // the report as another command, still running, would have queued it
    const writer = spawn('sleep', ['0.4'], { stdio: 'ignore' });
    const [name = ''] = queued(h);
    expect(writerOf(name)).toBe(process.pid);
    const theirs = name.replace(/-\d{10}-/, `-${String(writer.pid).padStart(10, '0')}-`);
    renameSync(join(outboxDir(h), name), join(outboxDir(h), theirs));
    expect(writerOf(theirs)).toBe(writer.pid);
    const ended = new Promise<number>((r) => writer.on('exit', () => r(Date.now())));
    const r = await drain(h, { idleMs: 0 });
    const sentAt = Date.now();
    expect(r).toMatchObject({ sent: 1, left: 0 });
    expect(sentAt).toBeGreaterThanOrEqual(await ended);
    expect(writerOf('not-a-report.json')).toBeUndefined();
  });

  it('stays idle long, polling the inbox, but stops once the server has not answered for giveUpMs (the class is over)', async () => {
    const h = home();
    join_(h, 'http://127.0.0.1:47', FAKE_TOKEN);
    const started = Date.now();
    const r = await drain(h, { idleMs: 60_000, giveUpMs: 300, pollMs: 100 });
    expect(r).toMatchObject({ sent: 0, left: 0, stopped: 'unreachable' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops polling the inbox once the server rejects the token', async () => {
    const h = home();
    join_(h, t.origin, FAKE_TOKEN);
    const r = await drain(h, { idleMs: 60_000, pollMs: 100 });
    expect(r).toMatchObject({ sent: 0, left: 0, stopped: 'token rejected by the server (401)' });
  });

  it('runs once per home: a second sender finds the first busy', async () => {
    const h = home();
    join_(h, 'http://127.0.0.1:47', FAKE_TOKEN);
    enqueue(h, report());
    const first = drain(h, { idleMs: 0, giveUpMs: 500, maxBackoffMs: 100 });
    await new Promise((r) => setTimeout(r, 50));
    expect((await drain(h, { idleMs: 0 })).stopped).toBe('busy');
    expect((await first).stopped).toBe('unreachable');
  });
});
