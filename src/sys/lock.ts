// One mutating command at a time. The lock file names its owner by PID *and* process start time
// (field 22 of /proc/PID/stat), so a lock left by a dead command whose PID now belongs to an
// unrelated live process is seen as stale and taken over. A second command waits (bounded)
// instead of failing at once. The lock is re-entrant within a process: a command that holds it
// (solve, reset, clean) can call the Journey, whose methods take it too.
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive, processStart } from './process.ts';
import { envError, WorkshopError } from '../errors.ts';
import { readRegularFile } from './files.ts';
import { monotonicMs, sleep } from './lang.ts';

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

type Read = { kind: 'owner'; owner: LockOwner } | { kind: 'garbage'; stat: Stats } | { kind: 'gone' };

/** What is at the lock path now: an owner, something that is not one (stale once it stays), or nothing. */
function readLock(path: string): Read {
  let text: string;
  try {
    // a FIFO, a device or a socket is refused (exit 3): reading it would block or never end
    text = readRegularFile(path);
  } catch (err) {
    if (err instanceof WorkshopError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') {
      // a dangling symlink or a loop is in the way as much as garbage is (link(2) says EEXIST)
      const stat = lstatSync(path, { throwIfNoEntry: false });
      return stat === undefined ? { kind: 'gone' } : { kind: 'garbage', stat };
    }
    throw lockFsError(path, err as NodeJS.ErrnoException);
  }
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid === 'number') return { kind: 'owner', owner: { pid: v.pid, start: typeof v.start === 'number' ? v.start : null, command: String(v.command ?? '?'), at: String(v.at ?? '') } };
  } catch {
    // half-written by an older workshop, or garbage
  }
  const stat = lstatSync(path, { throwIfNoEntry: false });
  return stat === undefined ? { kind: 'gone' } : { kind: 'garbage', stat };
}

const ownerOf = (path: string): LockOwner | undefined => {
  const r = readLock(path);
  return r.kind === 'owner' ? r.owner : undefined;
};

/** Filesystem errors on the home or the lock are the machine's state, not a bug: exit 3 with what to do. */
function lockFsError(path: string, err: NodeJS.ErrnoException): Error {
  const why =
    err.code === 'EACCES' || err.code === 'EPERM'
      ? 'permission denied (is the folder immutable, `lsattr -d`, or are you not root?)'
      : err.code === 'EISDIR'
        ? 'it is a directory'
        : err.code === 'EROFS'
          ? 'the file system is read-only'
          : err.code === 'ENOSPC'
            ? 'the disk is full'
            : (err.code ?? err.message);
  return envError(
    `cannot take the lock ${path}: ${why}`,
    err.code === 'EISDIR' ? `remove the directory: rmdir ${path}` : err.code === 'ENOSPC' ? `free some space on the disk of ${dirname(path)} (df -h ${dirname(path)})` : `check ${dirname(path)}: it must be a writable folder (run as root; chattr -i if it was made immutable)`,
  );
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
 * How long a file has been seen as it is. Ages are measured on this process's monotonic clock
 * from the first sighting, never from the file's mtime alone: an mtime in the future (a clock that
 * stepped back, `touch -d 2030`) would otherwise never grow old, and the wait would never end.
 * An mtime that is already old enough counts at once.
 */
class Sightings {
  readonly #first = new Map<string, { key: string; at: number }>();
  olderThan(path: string, st: Stats, ms: number): boolean {
    const key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const t = monotonicMs();
    const seen = this.#first.get(path);
    if (seen === undefined || seen.key !== key) this.#first.set(path, { key, at: t });
    const age = Date.now() - st.mtimeMs;
    return age >= ms || t - (this.#first.get(path)?.at ?? t) >= ms;
  }
}

/**
 * Removes a stale lock without racing another waiter that is doing the same: a short-lived
 * `lock.takeover` folder (mkdir is atomic) guards the re-read and the removal, so a lock that a
 * third process created in between is never removed. Returns whether the lock was removed.
 */
function takeOver(path: string, stale: Read, seen: Sightings): boolean {
  const guard = `${path}.takeover`;
  try {
    mkdirSync(guard);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw lockFsError(guard, err as NodeJS.ErrnoException);
    // a guard seen for 5 s belongs to a waiter that died between two syscalls
    const st = lstatSync(guard, { throwIfNoEntry: false });
    if (st !== undefined && seen.olderThan(guard, st, 5000)) {
      try {
        if (st.isDirectory()) rmdirSync(guard);
        else rmSync(guard, { force: true });
      } catch {
        // gone already, or not empty: the wait's deadline names it
      }
    }
    return false;
  }
  try {
    // While the guard is there, no one else can remove the lock, and only a taker (who needs this
    // guard) removes a stale one: what is re-read here is what is removed. A lock that is gone is
    // never "removed": a command may create it between the re-read and the removal (a lost
    // update, seen once in 10 trials of the concurrency test).
    const now = readLock(path);
    const same =
      (stale.kind === 'garbage' && now.kind === 'garbage' && now.stat.ino === stale.stat.ino && now.stat.mtimeMs === stale.stat.mtimeMs && now.stat.size === stale.stat.size) ||
      (stale.kind === 'owner' && now.kind === 'owner' && now.owner.pid === stale.owner.pid && now.owner.start === stale.owner.start && now.owner.at === stale.owner.at);
    if (same) rmSync(path, { force: true });
    return same;
  } finally {
    rmdirSync(guard);
  }
}

/**
 * Creates the lock with its content already in place: the owner is written to a temp file that is
 * then hard-linked to the lock path (link(2) fails if the path exists). A lock file is therefore
 * never seen empty or half-written by a waiter, which would take it for stale. The temp file goes
 * whatever happens (a full disk leaves it empty otherwise, once per attempt).
 */
function tryCreate(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${process.pid}.new`;
  try {
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
      if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) throw lockFsError(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
      return false;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface Lock {
  release(): void;
}

/** Takes the lock, waiting for a live owner up to `timeoutMs`; every wait ends (exit 3) by then. */
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
  // the monotonic clock: a wall clock that steps back must not make the wait endless
  const t0 = monotonicMs();
  const seen = new Sightings();
  let noticed = false;
  let tookOver = false;
  let pause = 10;
  for (;;) {
    if (tryCreate(path, me)) break;
    const now = readLock(path);
    // released just now: try again at once (the deadline still holds)
    if (now.kind === 'gone' && monotonicMs() - t0 < timeoutMs) continue;
    if (now.kind === 'gone') throw waitedTooLong(path, now, monotonicMs() - t0);
    // garbage (from an older workshop, or a disk error) is stale once it has stayed a second
    const stale = now.kind === 'garbage' ? seen.olderThan(path, now.stat, 1000) : now.owner.pid !== process.pid && !ownerIsLive(now.owner);
    if (stale && takeOver(path, now, seen)) {
      tookOver = true;
      continue;
    }
    const waited = monotonicMs() - t0;
    if (waited >= timeoutMs) throw waitedTooLong(path, now, waited);
    if (now.kind === 'owner' && !stale && !noticed && waited >= noticeMs) {
      noticed = true;
      opts.onWait?.(now.owner);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 100);
  }
  held.set(path, 1);
  if (tookOver) sweepLeftovers(dirname(path));
  return {
    release() {
      const d = (held.get(path) ?? 1) - 1;
      if (d > 0) {
        held.set(path, d);
        return;
      }
      held.delete(path);
      // only remove a lock that is still ours; one replaced by something else is left for the next waiter to judge
      let now: LockOwner | undefined;
      try {
        now = ownerOf(path);
      } catch {
        now = undefined;
      }
      if (now && now.pid === me.pid && now.at === me.at) rmSync(path, { force: true });
    },
  };
}

/**
 * A command killed (SIGKILL) between writing a temp file and renaming or removing it leaves it
 * behind: `lock.<pid>.new`, `state.json.tmp-<pid>`. Writers hold the lock, so once a stale lock was
 * taken over, the temp files of dead PIDs are nobody's, and go.
 */
function sweepLeftovers(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^(?:lock\.(\d+)\.new|state\.json\.tmp-(\d+))$/.exec(name)?.slice(1).find((v) => v !== undefined);
    if (pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid))) rmSync(join(dir, name), { force: true });
  }
}

function waitedTooLong(path: string, now: Read, waited: number): Error {
  const s = Math.round(waited / 1000);
  if (now.kind === 'owner' && ownerIsLive(now.owner)) {
    return envError(`another workshop command is running (pid ${now.owner.pid}: workshop ${now.owner.command}), and it still held the lock after ${s} s`, `wait for it to finish, or stop it (kill ${now.owner.pid}); the lock is ${path}`);
  }
  return envError(`cannot take the lock ${path} after ${s} s: it is not a lock this workshop can take over, or ${path}.takeover is in the way`, `if no other workshop command is running, remove them: rm -rf ${path}.takeover; rm -f ${path}`);
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

/** The live owner of a lock, or undefined when it is free or stale: for a caller that only looks (the class reporter). */
export function liveOwner(path: string): LockOwner | undefined {
  let owner: LockOwner | undefined;
  try {
    owner = ownerOf(path);
  } catch {
    return undefined; // not a lock file at all: no one holds it
  }
  return owner !== undefined && ownerIsLive(owner) ? owner : undefined;
}
