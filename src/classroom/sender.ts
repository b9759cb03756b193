// The detached sender (`workshop classroom __send`): drains the outbox in order, one report at a
// time, and deletes each file only after the server acknowledged it. While the server is down it
// retries with exponential backoff and jitter, and waits no longer than MAX_SERVER_DELAY_MS when
// the server asks for a pause. One sender runs per home: it holds the one lockfile (sys/lock.ts) on
// classroom-sender.lock, which knows a reused PID by its start time.
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, type Lock } from '../sys/lock.ts';
import { WorkshopError } from '../errors.ts';
import { answerMessage, backoff, request, retryAfterMs } from './http.ts';
import { asInbox, saveInbox } from './inbox.ts';
import { outboxDir, queued, readMembership, readSenderState, rejectedDir, senderLockPath, writerOf, writeSenderState, type Membership, type SenderState } from './outbox.ts';
import { processAlive } from '../sys/process.ts';
import { LIMITS } from './schemas.ts';

export interface DrainOptions {
  /**
   * keep watching an empty outbox this long, and polling the inbox (the hold, the messages, the
   * drill round) for the learner's commands to read
   */
  idleMs?: number;
  /**
   * stop retrying an unreachable server after this long, whether sending a report or polling the
   * inbox; the next command that queues a report starts a new sender
   */
  giveUpMs?: number;
  maxBackoffMs?: number;
  /** how often an idle sender polls the inbox (INBOX_POLL_MS) */
  pollMs?: number;
}

export interface DrainResult {
  sent: number;
  rejected: number;
  left: number;
  /** why it stopped early: 'busy' (another sender runs), 'not joined', 'unreachable', 'token rejected…', 'the server…' */
  stopped: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Homes this process drains now: the lockfile is re-entrant within a process, a sender is not. */
const draining = new Set<string>();

/**
 * Takes the per-home sender lock; undefined when a live sender holds it. It waits a little: the
 * lockfile takes over a file that is no lock (an older workshop's pid-only one) only after
 * seeing it stay for a second.
 */
async function tryLock(home: string): Promise<Lock | undefined> {
  try {
    return await acquireLock(senderLockPath(home), 'classroom __send', { timeoutMs: 1500 });
  } catch (err) {
    if (err instanceof WorkshopError) return undefined;
    throw err;
  }
}

/** Resolves when the outbox changes (inotify through fs.watch) or after `ms`, whichever is first. */
function outboxWatcher(home: string): ((ms: number) => Promise<void>) & { close(): void } {
  let poke: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    mkdirSync(outboxDir(home), { recursive: true, mode: 0o700 });
    watcher = watch(outboxDir(home), () => poke?.());
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // no inotify: the timeout polls
  }
  const wait = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        poke = undefined;
        resolve();
      }
      poke = done;
    });
  return Object.assign(wait, { close: () => watcher?.close() });
}

type Outcome = { kind: 'sent' } | { kind: 'rejected'; why: string } | { kind: 'retry'; why: string; afterMs?: number } | { kind: 'stop'; why: string };

/** What the server's answer to one report means for the queue. */
export async function post(m: Membership, body: string): Promise<Outcome> {
  const got = await request(new URL('/api/reports', m.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${m.token}` },
    body,
    maxBytes: 4096,
  });
  if (!got.ok) return { kind: 'retry', why: `cannot reach ${m.url} (${got.why})` };
  const a = got.answer;
  if (a.status === 200 || a.status === 201) return { kind: 'sent' };
  if (a.status === 429) return { kind: 'retry', why: `the server asks to wait: ${answerMessage(a)}`, afterMs: retryAfterMs(a.headers.get('retry-after'), 1000) };
  if (a.status === 401) return { kind: 'stop', why: `token rejected: ${answerMessage(a)}` };
  if (a.status >= 400 && a.status < 500) return { kind: 'rejected', why: `${a.status} ${answerMessage(a)}` };
  if (a.status >= 500) return { kind: 'retry', why: `server error ${a.status}` };
  // a redirect (it would take the token elsewhere), or a 1xx/2xx no class server sends
  return { kind: 'stop', why: `the server answered ${a.status}, which a class server never does: is ${m.url} the class?` };
}

/**
 * How often an idle sender asks for the learner's inbox (messages, the hold): the learner's VM
 * has no inbound port. 300 learners make 60 requests a second of it.
 */
export const INBOX_POLL_MS = 5000;

/**
 * Fetches GET /api/inbox and saves it for the learner's commands: 'saved', 'failed' (no answer,
 * or not an inbox), or 'rejected' when the server no longer knows the token (401).
 */
export async function pollInbox(home: string, m: Membership): Promise<'saved' | 'failed' | 'rejected'> {
  const got = await request(new URL('/api/inbox', m.url), { method: 'GET', headers: { authorization: `Bearer ${m.token}` }, maxBytes: 128 * 1024, timeoutMs: 5000 });
  if (got.ok && got.answer.status === 401) return 'rejected';
  if (!got.ok || got.answer.status !== 200) return 'failed';
  let inbox;
  try {
    inbox = asInbox(JSON.parse(got.answer.text));
  } catch {
    return 'failed';
  }
  if (inbox) saveInbox(home, inbox);
  return inbox ? 'saved' : 'failed';
}

/**
 * How long a sender with nothing to send stays (DrainOptions.idleMs), polling the inbox: a class
 * day. A sender that left after 10 idle minutes, as it once did, left the inbox as it was then, and
 * a learner who read for longer saw no hold and no message until a command had started a new one
 * (issue 22). It leaves sooner when the learner leaves the class, when the server rejects the token,
 * and when the server has not answered for DrainOptions.giveUpMs (the class is over).
 */
export const SENDER_IDLE_MS = 8 * 60 * 60_000;

/** A report file is at most a report: anything bigger was not written by the reporter. */
const MAX_REPORT_FILE = 2 * LIMITS.bodyBytes;

function setAside(home: string, name: string): void {
  mkdirSync(rejectedDir(home), { recursive: true, mode: 0o700 });
  renameSync(join(outboxDir(home), name), join(rejectedDir(home), name));
}

/** Best effort: on a full disk the sender goes on without its state file. */
function saveState(home: string, state: SenderState): void {
  try {
    writeSenderState(home, state);
  } catch {
    // the next write tries again
  }
}

/** The longest a report waits for the command that queued it to end (`watch` runs for hours). */
export const WRITER_WAIT_MS = 1000;

/**
 * Waits until the command that queued the report `name` has ended, at most WRITER_WAIT_MS. Sending
 * a report costs more CPU (fetch, and the server's answer when it runs on the same machine) than the
 * learner's command spends writing it: sent at once, it competed with the rest of that command on
 * a 2-core VM (issue 26: `next` with a class joined, ≤ 1.10× `next`). A report this process queued
 * itself (a test that drains in-process) waits for nothing.
 */
async function writerDone(name: string): Promise<void> {
  const pid = writerOf(name);
  if (pid === undefined || pid === process.pid) return;
  const until = Date.now() + WRITER_WAIT_MS;
  while (processAlive(pid) && Date.now() < until) await sleep(10);
}

type Step = { kind: 'next' } | { kind: 'stop'; why: string } | { kind: 'retry'; why: string; afterMs?: number };

/** Sends the oldest queued report and disposes of it: deleted once acknowledged, set aside if refused. */
async function sendOne(home: string, m: Membership, name: string, result: DrainResult, state: SenderState): Promise<Step> {
  const file = join(outboxDir(home), name);
  let body: string;
  try {
    if (statSync(file).size > MAX_REPORT_FILE) {
      setAside(home, name);
      result.rejected++;
      return { kind: 'next' };
    }
    body = readFileSync(file, 'utf8');
  } catch (err) {
    // ENOENT: sent and removed by a sender that held the lock before us
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'next' } : { kind: 'stop', why: `cannot read the outbox: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const out = await post(m, body);
  if (out.kind === 'retry' || out.kind === 'stop') {
    state.lastError = out.why;
    state.lastErrorAt = new Date().toISOString();
    saveState(home, state);
    return out;
  }
  try {
    if (out.kind === 'rejected') {
      // A report the server will never take must not block the queue: keep it aside, for the record.
      setAside(home, name);
      result.rejected++;
      state.lastError = `a report was rejected: ${out.why}`;
      state.lastErrorAt = new Date().toISOString();
    } else {
      unlinkSync(file);
      result.sent++;
      state.lastSentAt = new Date().toISOString();
      state.lastError = null;
    }
  } catch (err) {
    // a full or read-only disk: the report stays queued, and the server stores its UUID once
    return { kind: 'stop', why: `cannot update the outbox: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  return { kind: 'next' };
}

/** When to try a failing server again: exponential backoff with jitter, a capped Retry-After, and a time to give up. */
class RetryClock {
  #base = 250;
  #failingSince: number | null = null;
  readonly #giveUpMs: number;
  readonly #maxBackoffMs: number;
  constructor(giveUpMs: number, maxBackoffMs: number) {
    this.#giveUpMs = giveUpMs;
    this.#maxBackoffMs = maxBackoffMs;
  }
  succeeded(): void {
    this.#base = 250;
    this.#failingSince = null;
  }
  /** How long to wait before the next try; undefined when it is time to give up. */
  failed(afterMs: number | undefined): number | undefined {
    this.#failingSince ??= Date.now();
    const remaining = this.#giveUpMs - (Date.now() - this.#failingSince);
    if (remaining <= 0) return undefined;
    const step = backoff(this.#base, this.#maxBackoffMs);
    this.#base = step.next;
    // A server's Retry-After is already capped; with jitter, so that a room does not come back at once.
    const delay = afterMs === undefined ? step.delayMs : afterMs + Math.round(Math.random() * 250);
    return Math.min(delay, Math.max(remaining, 1));
  }
}

/** Sends every queued report, oldest first. Returns when the outbox stays empty, or it must stop. */
export async function drain(home: string, o: DrainOptions = {}): Promise<DrainResult> {
  // A sender that stays a while means most commands only queue: starting a process costs the
  // learner's command more (measured 20 ms under load) than writing the report.
  const idleMs = o.idleMs ?? SENDER_IDLE_MS;
  const result: DrainResult = { sent: 0, rejected: 0, left: 0, stopped: null };
  if (!readMembership(home)) return { ...result, left: queued(home).length, stopped: 'not joined' };
  let lock = draining.has(home) ? undefined : await tryLock(home);
  if (!lock) return { ...result, left: queued(home).length, stopped: 'busy' };
  draining.add(home);
  const wake = outboxWatcher(home);
  const state = readSenderState(home);
  const giveUpMs = o.giveUpMs ?? 10 * 60_000;
  const clock = new RetryClock(giveUpMs, o.maxBackoffMs ?? 5000);
  let idleSince: number | null = null;
  let polled = 0;
  /** since when the inbox has not answered; null while it does */
  let inboxFailingSince: number | null = null;
  try {
    for (;;) {
      // read every time: `leave` ends the sender, a new `join` points it at the new class
      const m = readMembership(home);
      if (!m) {
        result.stopped = 'not joined';
        break;
      }
      const next = queued(home)[0];
      if (next === undefined) {
        if (Date.now() - polled >= (o.pollMs ?? INBOX_POLL_MS)) {
          polled = Date.now();
          const got = await pollInbox(home, m);
          if (got === 'rejected') {
            result.stopped = 'token rejected by the server (401)';
            break;
          }
          inboxFailingSince = got === 'saved' ? null : (inboxFailingSince ?? polled);
          if (inboxFailingSince !== null && Date.now() - inboxFailingSince >= giveUpMs) {
            result.stopped = 'unreachable';
            break;
          }
        }
        idleSince ??= Date.now();
        const left = idleMs - (Date.now() - idleSince);
        if (left > 0) {
          await wake(Math.min(left, 1000));
          continue;
        }
        // Release, then look once more: a report queued after the last look, by a command that saw
        // the lock still held, must not wait for the next command.
        lock.release();
        lock = undefined;
        if (queued(home).length === 0 || !(lock = await tryLock(home))) break;
        idleSince = null;
        continue;
      }
      idleSince = null;
      await writerDone(next);
      const step = await sendOne(home, m, next, result, state);
      if (step.kind === 'next') {
        clock.succeeded();
        continue;
      }
      if (step.kind === 'stop') {
        result.stopped = step.why;
        break;
      }
      const wait = clock.failed(step.afterMs);
      if (wait === undefined) {
        result.stopped = 'unreachable';
        break;
      }
      await sleep(wait);
    }
  } finally {
    wake.close();
    draining.delete(home);
    lock?.release();
    if (result.sent > 0 || result.rejected > 0 || result.stopped) saveState(home, state);
  }
  result.left = queued(home).length;
  return result;
}
