// The detached sender (`workshop classroom __send`): drains the outbox in order, one report at a
// time, and deletes each file only after the server acknowledged it. While the server is down it
// retries with backoff; one sender runs per home (a lock file holding its pid).
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { outboxDir, queued, readMembership, readSenderState, rejectedDir, senderLockPath, writeSenderState, type Membership } from './outbox.ts';
import { processAlive } from '../checks/proc.ts';

export interface DrainOptions {
  /** keep watching an empty outbox this long for reports the command is still writing */
  idleMs?: number;
  /** stop retrying an unreachable server after this long; the next command starts a new sender */
  giveUpMs?: number;
  maxBackoffMs?: number;
}

export interface DrainResult {
  sent: number;
  rejected: number;
  left: number;
  /** why it stopped early: 'busy' (another sender runs), 'not joined', 'unreachable', 'token rejected' */
  stopped: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Takes the per-home sender lock; false if a live sender holds it. A dead holder's lock is taken over. */
function lock(home: string): boolean {
  const path = senderLockPath(home);
  for (let i = 0; i < 3; i++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(path, 'utf8').split('\n')[0]);
    } catch {
      continue; // it was just released
    }
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) return false;
    try {
      unlinkSync(path);
    } catch {
      // another sender removed it first
    }
  }
  return false;
}

function unlock(home: string): void {
  try {
    if (Number(readFileSync(senderLockPath(home), 'utf8').split('\n')[0]) === process.pid) unlinkSync(senderLockPath(home));
  } catch {
    // already gone
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

async function post(m: Membership, body: string): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(new URL('/api/reports', m.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${m.token}` },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message;
    return { kind: 'retry', why: `cannot reach ${m.url}${why ? ` (${why})` : ''}` };
  }
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 300);
  try {
    message = String((JSON.parse(text) as { error?: unknown }).error ?? message);
  } catch {
    // not JSON; keep the text
  }
  if (res.status === 200 || res.status === 201) return { kind: 'sent' };
  if (res.status === 429) return { kind: 'retry', why: 'rate-limited', afterMs: 1000 * (Number(res.headers.get('retry-after')) || 1) };
  if (res.status === 401) return { kind: 'stop', why: `token rejected: ${message}` };
  if (res.status >= 400 && res.status < 500) return { kind: 'rejected', why: `${res.status} ${message}` };
  return { kind: 'retry', why: `server error ${res.status}` };
}

/** Sends every queued report, oldest first. Returns when the outbox stays empty, or it must stop. */
export async function drain(home: string, o: DrainOptions = {}): Promise<DrainResult> {
  // A sender that stays a while means most commands only queue: starting a process costs the
  // learner's command more (measured 20 ms under load) than writing the report.
  const idleMs = o.idleMs ?? 10 * 60_000;
  const giveUpMs = o.giveUpMs ?? 10 * 60_000;
  const maxBackoff = o.maxBackoffMs ?? 5000;
  const result: DrainResult = { sent: 0, rejected: 0, left: 0, stopped: null };
  let m = readMembership(home);
  if (!m) return { ...result, left: queued(home).length, stopped: 'not joined' };
  if (!lock(home)) return { ...result, left: queued(home).length, stopped: 'busy' };
  const wake = outboxWatcher(home);
  const state = readSenderState(home);
  let backoff = 250;
  let failingSince: number | null = null;
  let idleSince: number | null = null;
  try {
    for (;;) {
      // read every time: `leave` ends the sender, a new `join` points it at the new class
      const now = readMembership(home);
      if (!now) {
        result.stopped = 'not joined';
        break;
      }
      m = now;
      const next = queued(home)[0];
      if (next === undefined) {
        idleSince ??= Date.now();
        const left = idleMs - (Date.now() - idleSince);
        if (left > 0) {
          await wake(Math.min(left, 1000));
          continue;
        }
        // Release, then look once more: a report queued after the last look, by a command that saw
        // the lock still held, must not wait for the next command.
        unlock(home);
        if (queued(home).length === 0 || !lock(home)) break;
        idleSince = null;
        continue;
      }
      idleSince = null;
      const file = join(outboxDir(home), next);
      let body: string;
      try {
        body = readFileSync(file, 'utf8');
      } catch {
        continue; // sent and removed by a sender that held the lock before us
      }
      const out = await post(m, body);
      if (out.kind === 'sent' || out.kind === 'rejected') {
        if (out.kind === 'rejected') {
          // A report the server will never take must not block the queue: keep it aside, for the record.
          mkdirSync(rejectedDir(home), { recursive: true, mode: 0o700 });
          renameSync(file, join(rejectedDir(home), next));
          result.rejected++;
          state.lastError = `a report was rejected: ${out.why}`;
          state.lastErrorAt = new Date().toISOString();
        } else {
          unlinkSync(file);
          result.sent++;
          state.lastSentAt = new Date().toISOString();
          state.lastError = null;
        }
        backoff = 250;
        failingSince = null;
        continue;
      }
      state.lastError = out.why;
      state.lastErrorAt = new Date().toISOString();
      writeSenderState(home, state);
      if (out.kind === 'stop') {
        result.stopped = out.why;
        break;
      }
      failingSince ??= Date.now();
      if (Date.now() - failingSince > giveUpMs) {
        result.stopped = 'unreachable';
        break;
      }
      await sleep(out.afterMs ?? backoff);
      backoff = Math.min(maxBackoff, backoff * 2);
    }
  } finally {
    wake.close();
    unlock(home);
    if (result.sent > 0 || result.rejected > 0 || result.stopped) writeSenderState(home, state);
  }
  result.left = queued(home).length;
  return result;
}
