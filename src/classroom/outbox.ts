// The learner's outbox: one file per report under WORKSHOP_HOME/classroom-outbox/, written with
// temp + rename so that a crash never leaves half a report, named so that sorting the
// names gives the order they were made in. The sender deletes a file only once the server has
// acknowledged it. Only node:fs here: every reporting command loads this module.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isToken } from './identity.ts';
import { visible } from './safe-text.ts';
import type { Report } from './store.ts';

/** More than this many unsent reports and new ones are dropped (and counted), not queued. */
export const OUTBOX_LIMIT = 10_000;

export interface Membership {
  /** the server's origin, e.g. http://10.0.2.2:7878 */
  url: string;
  name: string;
  token: string;
  joinedAt: string;
}

export const membershipPath = (home: string): string => join(home, 'classroom.json');
export const outboxDir = (home: string): string => join(home, 'classroom-outbox');
export const rejectedDir = (home: string): string => join(home, 'classroom-outbox', 'rejected');
export const droppedPath = (home: string): string => join(home, 'classroom-outbox', 'dropped');
export const senderLockPath = (home: string): string => join(home, 'classroom-sender.lock');
export const senderStatePath = (home: string): string => join(home, 'classroom-sender.json');

/**
 * The class this home has joined: one read of a small file; undefined when none, or when it is
 * unreadable or holds no valid token (a token as the server issues them: identity.ts).
 */
export function readMembership(home: string): Membership | undefined {
  let text: string;
  try {
    text = readFileSync(membershipPath(home), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<Membership>;
    if (typeof v.url === 'string' && /^https?:\/\/[\x21-\x7e]+$/.test(v.url) && typeof v.name === 'string' && isToken(v.token)) return { url: v.url, name: v.name, token: v.token, joinedAt: String(v.joinedAt ?? '') };
  } catch {
    // a damaged membership file means "not joined"; `classroom join` writes a new one
  }
  return undefined;
}

/** Queued report files, oldest first. */
export function queued(home: string): string[] {
  let names: string[];
  try {
    names = readdirSync(outboxDir(home));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json')).sort();
}

let counter = 0;

/** `<ms since epoch>-<pid>-<counter>.json`, zero-padded so that names sort in creation order. */
function entryName(): string {
  counter++;
  return `${String(Date.now()).padStart(15, '0')}-${String(process.pid).padStart(10, '0')}-${String(counter).padStart(6, '0')}.json`;
}

/** The PID of the command that queued a report, from its name (entryName); undefined for any other name. */
export function writerOf(name: string): number | undefined {
  const m = /^\d{15}-(\d{10})-\d{6}\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * temp + rename: a reader sees a whole file or none. No fsync: it cost 3.4 ms per report here, over
 * the 10 % that a class may add to `next`; a report written just before the VM itself crashes may
 * be lost (a damaged one is refused by the server and set aside), a kill -9 of a command cannot.
 */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    // a full disk: no half-written temp file stays behind
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Writes classroom.json whole or not at all (mode 0600: the token is the learner's identity). */
export function writeMembership(home: string, m: Membership): void {
  writeAtomically(membershipPath(home), `${JSON.stringify(m)}\n`);
}

/** Queues a report; false (and the drop is counted) when the outbox is full. */
export function enqueue(home: string, report: Report, limit: number = OUTBOX_LIMIT): boolean {
  const dir = outboxDir(home);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  else if (queued(home).length >= limit) {
    writeFileSync(droppedPath(home), String(droppedCount(home) + 1));
    return false;
  }
  writeAtomically(join(dir, entryName()), JSON.stringify(report));
  return true;
}

export function droppedCount(home: string): number {
  try {
    return Number(readFileSync(droppedPath(home), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

export interface SenderState {
  lastError: string | null;
  lastErrorAt: string | null;
  lastSentAt: string | null;
}

export function readSenderState(home: string): SenderState {
  try {
    const v = JSON.parse(readFileSync(senderStatePath(home), 'utf8')) as Partial<SenderState>;
    return { lastError: v.lastError ?? null, lastErrorAt: v.lastErrorAt ?? null, lastSentAt: v.lastSentAt ?? null };
  } catch {
    return { lastError: null, lastErrorAt: null, lastSentAt: null };
  }
}

export function writeSenderState(home: string, s: SenderState): void {
  writeAtomically(senderStatePath(home), JSON.stringify(s));
}

/** For `workshop status`: `class: <url> (n queued)`; undefined when no class is joined. */
export function outboxStatus(home: string): { url: string; name: string; queued: number; dropped: number; lastError: string | null } | undefined {
  const m = readMembership(home);
  if (!m) return undefined;
  return { url: m.url, name: m.name, queued: queued(home).length, dropped: droppedCount(home), lastError: readSenderState(home).lastError };
}

/** The status line itself. */
export function outboxLine(home: string): string | undefined {
  const s = outboxStatus(home);
  if (!s) return undefined;
  const extra = [s.dropped ? `${s.dropped} dropped: the outbox was full` : '', s.queued && s.lastError ? `last try: ${s.lastError}` : ''].filter(Boolean).join('; ');
  // the file and the error text come from outside this command: no control character reaches the terminal
  return visible(`class: ${s.url} (${s.queued} queued)${extra ? ` ${extra}` : ''}`);
}
