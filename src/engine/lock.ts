// One mutating command at a time. The lock file names its owner by PID *and* process start time
// (field 22 of /proc/PID/stat), so a lock left by a dead command whose PID now belongs to an
// unrelated live process is seen as stale and taken over. A second command waits (bounded)
// instead of failing at once. The lock is re-entrant within a process: a command that holds it
// (solve, reset, clean) can call the Journey, whose methods take it too.
import { linkSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { processAlive, processStart } from '../checks/proc.ts';
import { envError } from '../errors.ts';
import { sleep } from '../checks/lang.ts';

export interface LockOwner {
  pid: number;
  /** field 22 of /proc/PID/stat: clock ticks after boot; null where /proc cannot tell */
  start: number | null;
  command: string;
  at: string;
}

function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

export interface ProcessProbe {
  alive(pid: number): boolean;
  start(pid: number): number | null;
  cmdline(pid: number): string | null;
}

/** Pure apart from the process table: does the recorded owner still hold the lock? */
export function ownerIsLive(owner: LockOwner, probe: ProcessProbe = { alive: processAlive, start: processStart, cmdline }): boolean {
  if (!probe.alive(owner.pid)) return false;
  if (owner.start === null) {
    // a lock from before start times were recorded: a live PID counts only if it is workshop
    const cmd = probe.cmdline(owner.pid);
    return cmd === null || /workshop|cli\.js/.test(cmd);
  }
  const now = probe.start(owner.pid);
  return now === null || now === owner.start;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof v.pid !== 'number') return undefined;
    return { pid: v.pid, start: typeof v.start === 'number' ? v.start : null, command: String(v.command ?? '?'), at: String(v.at ?? '') };
  } catch {
    return undefined; // half-written or garbage: stale
  }
}

/** Filesystem errors on the home or the lock are the machine's state, not a bug: exit 3 with what to do. */
function lockFsError(path: string, err: NodeJS.ErrnoException): Error {
  const why =
    err.code === 'EACCES' || err.code === 'EPERM'
      ? 'permission denied (is the folder immutable, `lsattr -d`, or are you not root?)'
      : err.code === 'EISDIR'
        ? 'it is a directory'
        : err.code === 'EROFS'
          ? 'the file system is read-only'
          : (err.code ?? err.message);
  return envError(`cannot take the lock ${path}: ${why}`, err.code === 'EISDIR' ? `remove the directory: rmdir ${path}` : `check ${dirname(path)}: it must be a writable folder (run as root; chattr -i if it was made immutable)`);
}

const held = new Map<string, number>();

export interface WaitOptions {
  /** give up after this long (default 10 s) */
  timeoutMs?: number;
  /** called once when the wait passes `noticeMs` (default 0.5 s) */
  onWait?: (owner: LockOwner) => void;
  noticeMs?: number;
}


/**
 * Removes a stale lock without racing another waiter that is doing the same: a short-lived
 * `lock.takeover` folder (mkdir is atomic) guards the re-read and the removal, so a lock that a
 * third process created in between is never removed.
 */
function takeOver(path: string, stale: LockOwner | undefined): void {
  const guard = `${path}.takeover`;
  try {
    mkdirSync(guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // a guard older than 5 s belongs to a waiter that died between two syscalls
    try {
      if (Date.now() - statSync(guard).mtimeMs > 5000) rmdirSync(guard);
    } catch {
      // gone already
    }
    return;
  }
  try {
    // While the file is there, no one else can create the lock, and only a taker (who needs this
    // guard) removes a stale one: what is re-read here is what is removed. A lock that is gone is
    // never "removed": a command may create it between the re-read and the removal (a lost
    // update, seen once in 10 trials of the concurrency test).
    if (!statSync(path, { throwIfNoEntry: false })) return;
    const now = readOwner(path);
    const same = stale === undefined ? now === undefined : now !== undefined && now.pid === stale.pid && now.start === stale.start && now.at === stale.at;
    if (same) rmSync(path, { force: true });
  } finally {
    rmdirSync(guard);
  }
}

/**
 * Creates the lock with its content already in place: the owner is written to a temp file that is
 * then hard-linked to the lock path (link(2) fails if the path exists). A lock file is therefore
 * never seen empty or half-written by a waiter, which would take it for stale.
 */
function tryCreate(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${process.pid}.new`;
  try {
    writeFileSync(tmp, JSON.stringify(owner), { mode: 0o644 });
  } catch (err) {
    throw lockFsError(path, err as NodeJS.ErrnoException);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EEXIST') throw lockFsError(path, e);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw lockFsError(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface Lock {
  release(): void;
}

/** Takes the lock, waiting for a live owner up to `timeoutMs`. */
export async function acquireLock(path: string, command: string, opts: WaitOptions = {}): Promise<Lock> {
  const depth = held.get(path);
  if (depth !== undefined) {
    held.set(path, depth + 1);
    return { release: () => void held.set(path, (held.get(path) ?? 1) - 1) };
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw lockFsError(path, err as NodeJS.ErrnoException);
  }
  const me: LockOwner = { pid: process.pid, start: processStart(process.pid), command, at: new Date().toISOString() };
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const noticeMs = opts.noticeMs ?? 500;
  const t0 = Date.now();
  let noticed = false;
  let pause = 10;
  for (;;) {
    if (tryCreate(path, me)) break;
    const owner = readOwner(path);
    const st = owner === undefined ? statSync(path, { throwIfNoEntry: false }) : undefined;
    // released just now: try again at once
    if (owner === undefined && !st) continue;
    // garbage (from an older workshop, or a disk error) is stale once it is a second old
    const garbage = st !== undefined && Date.now() - st.mtimeMs > 1000;
    if (garbage || (owner !== undefined && owner.pid !== process.pid && !ownerIsLive(owner))) {
      takeOver(path, owner);
      continue;
    }
    const waited = Date.now() - t0;
    if (owner === undefined) {
      await sleep(pause);
      continue;
    }
    if (waited >= timeoutMs) {
      throw envError(`another workshop command is running (pid ${owner.pid}: workshop ${owner.command}), and it still held the lock after ${Math.round(waited / 1000)} s`, `wait for it to finish, or stop it; the lock is ${path}`);
    }
    if (!noticed && waited >= noticeMs) {
      noticed = true;
      opts.onWait?.(owner);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 100);
  }
  held.set(path, 1);
  return {
    release() {
      const d = (held.get(path) ?? 1) - 1;
      if (d > 0) {
        held.set(path, d);
        return;
      }
      held.delete(path);
      // only remove a lock that is still ours
      const now = readOwner(path);
      if (now && now.pid === me.pid && now.at === me.at) rmSync(path, { force: true });
    },
  };
}

export async function withLock<T>(path: string, command: string, fn: () => Promise<T>, opts: WaitOptions = {}): Promise<T> {
  const lock = await acquireLock(path, command, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Whether this process holds the lock (the Journey writes only while it does). */
export const holdsLock = (path: string): boolean => held.has(path);
