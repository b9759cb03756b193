// A class server for the tests: in this process (on any store of stores.ts), or as the built CLI in
// its own process (so that a test can kill -9 it), plus learners that join and post reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { senderLockPath } from '../../src/classroom/outbox.ts';
import { readPack } from '../../src/classroom/pack.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/classroom/server.ts';
import type { Report, Store } from '../../src/classroom/store.ts';
import { CLI, LESSONS, NODE, REPO, workshop } from '../helpers/workshop.ts';
import type { StoreFactory } from './stores.ts';

export const PACK = readPack(LESSONS);

export interface TestServer {
  store: Store;
  server: RunningServer;
  origin: string;
  token: string;
  joinCode: string;
  close(): Promise<void>;
}

export async function inProcess(factory: StoreFactory, extra: Partial<ServerOptions> = {}): Promise<TestServer> {
  const store = await factory.open(await factory.freshDb());
  const server = await startServer({
    store,
    pack: PACK,
    className: 'default',
    host: '127.0.0.1',
    port: 0,
    thresholds: { idleAfterMs: 5 * 60_000, stuckAfterMs: 10 * 60_000, stuckAttempts: 3 },
    pageDir: join(REPO, 'src/classroom/page'),
    ...extra,
  });
  return {
    store,
    server,
    origin: server.origin,
    token: server.info.instructorToken,
    joinCode: server.info.joinCode,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

export const report = (over: Partial<Report> = {}): Report => ({
  id: randomUUID(),
  kind: 'attempted',
  step: 'preflight/vm',
  command: 'next',
  next: null,
  outcome: 'fail',
  rows: [{ check: 'vm.txt holds what systemd-detect-virt --vm says', status: 'fail', expected: 'kvm', actual: 'no vm.txt', hint: 'systemd-detect-virt --vm | tee vm.txt' }],
  attempts: 1,
  hints: 0,
  at: new Date().toISOString(),
  ...over,
});

/** The i-th report of a load or fault run: the steps in turn, one more attempt each time. */
export const reportAt = (i: number, over: Partial<Report> = {}): Report => report({ step: PACK.steps[i % PACK.steps.length]?.id ?? 'preflight/vm', attempts: i + 1, ...over });

export async function joinAs(origin: string, code: string, name: string): Promise<string> {
  const res = await fetch(`${origin}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, name }) });
  const body = (await res.json()) as { token?: string; error?: string };
  if (res.status !== 201 || !body.token) throw new Error(`join ${name}: ${res.status} ${body.error ?? ''}`);
  return body.token;
}

export async function post(origin: string, token: string | undefined, body: unknown, raw = false): Promise<{ status: number; body: { error?: string; stored?: boolean; eventId?: number }; serverMs: number }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${origin}/api/reports`, { method: 'POST', headers, body: raw ? String(body) : JSON.stringify(body) });
  const text = await res.text();
  let parsed: { error?: string } = {};
  try {
    parsed = JSON.parse(text) as { error?: string };
  } catch {
    parsed = { error: text };
  }
  const serverMs = Number(/app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? Number.NaN);
  return { status: res.status, body: parsed, serverMs };
}

/** Posts a report that the server must store (201); its error otherwise. */
export async function postStored(origin: string, token: string, over: Partial<Report>): Promise<void> {
  const r = await post(origin, token, report(over));
  if (r.status !== 201) throw new Error(`the server did not store the report (${r.status}): ${r.body.error ?? ''}`);
}

/** A learner's home driven through the built CLI: `run` throws on an exit above 1 (a crash, a usage error). */
export function learnerHome(home: string): { run(...args: string[]): ReturnType<typeof workshop>; status(): Promise<string> } {
  return {
    run: async (...args) => {
      const r = await workshop(home, args);
      if (r.code === null || r.code > 1) throw new Error(`workshop ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
      return r;
    },
    status: async () => (await workshop(home, ['status'])).stdout,
  };
}

export async function getJson<T>(origin: string, path: string, token: string): Promise<T> {
  const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface ServeProcess {
  origin: string;
  port: number;
  token: string;
  joinCode: string;
  home: string;
  /** the --db it serves */
  db: string;
  /** what it wrote to stderr so far */
  stderr(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `workshop classroom serve` from the built CLI; `port` 0 picks one (pass the old one to restart in
 * place). `prepare` readies the server's home first; with `--pack` in `extra`, no --lessons is given.
 */
export async function serveProcess(db: string, port = 0, extra: readonly string[] = [], prepare?: (home: string) => Promise<void>): Promise<ServeProcess> {
  const home = mkdtempSync(join(tmpdir(), 'ws-serve-'));
  await prepare?.(home);
  const env: NodeJS.ProcessEnv = { ...process.env, WORKSHOP_HOME: home };
  delete env['FORCE_COLOR'];
  const child: ChildProcess = spawn(NODE, [CLI, 'classroom', 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', db, ...(extra.includes('--pack') ? [] : ['--lessons', LESSONS]), '--json', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const line = await new Promise<string>((resolve, reject) => {
    // a server that does not start leaves no home behind
    const fail = (e: Error): void => {
      rmSync(home, { recursive: true, force: true });
      reject(e);
    };
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`serve did not start in 20 s: ${err}`));
    }, 20_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(t);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      if (!out.includes('\n')) fail(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  const info = JSON.parse(line) as { port: number; instructorToken: string; joinCode: string };
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    origin: `http://127.0.0.1:${info.port}`,
    port: info.port,
    token: info.instructorToken,
    joinCode: info.joinCode,
    home,
    db,
    stderr: () => err,
    // a server killed is replaced by a new serveProcess (its own home): nothing of this one is left
    kill9: async () => {
      if (alive()) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(home, { recursive: true, force: true });
    },
    stop: async () => {
      if (alive()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export { sleep, until } from '../helpers/wait.ts';

/** A minimal EventSource: counts the ids of the events it receives (no reconnect). */
export async function sseIds(origin: string, token: string, lastEventId = 0): Promise<{ ids: number[]; types: string[]; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${origin}/api/events`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': String(lastEventId) }, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`SSE: ${res.status}`);
  const ids: number[] = [];
  const types: string[] = [];
  void (async () => {
    let buf = '';
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) return;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const type = /^event: (\w+)$/m.exec(block)?.[1];
        if (id !== undefined) {
          ids.push(Number(id));
          types.push(type ?? 'message');
        }
      }
    }
  })().catch(() => undefined);
  return { ids, types, close: () => abort.abort() };
}

/** Replaces this store's row of test-results/classroom-load.json, keeping the other stores' rows. */
export function mergeLoadRow(file: string, row: { store: string } & Record<string, unknown>): void {
  let rows: Array<{ store?: unknown }> = [];
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (Array.isArray(v)) rows = v as Array<{ store?: unknown }>;
  } catch {
    // no file yet, or a damaged one: start over
  }
  rows = [...rows.filter((r) => r.store !== row.store), row];
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
}

/** The load tests' p99 goal; WORKSHOP_LOAD_GOAL_MS lowers it (never raises it) to exercise the second measurement. */
export const LOAD_GOAL_MS = Math.min(50, Number(process.env['WORKSHOP_LOAD_GOAL_MS'] ?? 50));

/**
 * A load measurement, taken once more when its p99 misses LOAD_GOAL_MS: a shared CI machine has
 * minutes when a neighbour takes a core (its load average was 2 and the server's own p99 25 ms when
 * the PostgreSQL test missed by 1 ms). `measure` asserts what is never forgiven (nothing failed,
 * lost, missed or duplicated) on every run. The row returned is the last one, and keeps the first
 * p99 when there were two; its p99 is the figure to hold against the goal.
 */
export async function measureForGoal<R extends { store: string; p99: number }>(label: string, measure: (attempt: number) => Promise<R>): Promise<R & { firstAttemptP99?: number }> {
  const first = await measure(1);
  if (first.p99 < LOAD_GOAL_MS) return first;
  console.log(`${label}: p99 ${first.p99} ms is over the goal of ${LOAD_GOAL_MS} ms on the first run; measuring once more`);
  return { ...(await measure(2)), firstAttemptP99: first.p99 };
}

/**
 * The machine's CPU from now until the returned function is called, from /proc/stat's first line:
 * how busy all cores were (steal apart) and how much the hypervisor took (steal), in percent. A
 * load figure that misses its goal says with these whether the machine or the server was slow.
 */
export function cpuMeter(): () => { busyPct: number; stealPct: number } {
  const read = (): { total: number; idle: number; steal: number } => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const at = (i: number): number => f[i] ?? 0;
    return { total: f.reduce((a, b) => a + b, 0), idle: at(3) + at(4), steal: at(7) };
  };
  const first = read();
  return () => {
    const now = read();
    const total = Math.max(1, now.total - first.total);
    const pct = (x: number): number => Math.round((1000 * x) / total) / 10;
    const steal = now.steal - first.steal;
    return { busyPct: pct(total - (now.idle - first.idle) - steal), stealPct: pct(steal) };
  };
}

/** Kills the detached sender of a learner's home, if one holds its lock (the engine's lock: JSON with the pid). */
export function killSender(home: string): void {
  try {
    const { pid } = JSON.parse(readFileSync(senderLockPath(home), 'utf8')) as { pid?: unknown };
    if (typeof pid === 'number' && pid > 0 && pid !== process.pid) process.kill(pid, 'SIGKILL');
  } catch {
    // no sender running
  }
}

/** Debian's chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = process.env['WORKSHOP_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * The dashboard's browser: chromium on a fresh profile folder, its first page, and every console
 * error and page error of that page pushed to `problems` (each suite ends by expecting none).
 */
export async function chromiumPage(profile: string, problems: string[], extra: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1500, height: 1000 }, ...extra });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return { context, page };
}

let axeSource: string | undefined;

/**
 * axe-core (the npm package, injected into the page) on WCAG 2 A and AA: how many violations in
 * all, and the serious or critical ones as `id (impact): targets`. Logs both counts for `where`.
 */
export async function axeCheck(page: Page, where: string): Promise<{ all: number; bad: string[] }> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const result = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })`)) as { violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
  console.log(`axe-core on ${where}: ${result.violations.length} violations, ${bad.length} serious or critical`);
  return { all: result.violations.length, bad };
}
