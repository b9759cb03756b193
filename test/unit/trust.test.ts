// Issue 19: a home that would make the machine residue is refused; clean acts only on what its
// rules find in the workshop's own folders; every lock wait ends; state.json and the lock must be
// regular files; a byte-order mark is not corruption.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refusal } from '../../src/engine/clean.ts';
import { containerPlaces, isProtectedPath } from '../../src/engine/inventory.ts';
import { acquireLock } from '../../src/sys/lock.ts';
import { readState } from '../../src/engine/progress.ts';
import { realPathOf, resolveHome, unsafeHome } from '../../src/engine/workspace.ts';
import { WorkshopError } from '../../src/errors.ts';

/** What `fn` throws (undefined when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** A file system of symlinks for realpath: each key is a link to its value. */
const links = (table: Record<string, string>) => (p: string): string => {
  let out = p;
  for (const [from, to] of Object.entries(table)) if (out === from || out.startsWith(`${from}/`)) out = to + out.slice(from.length);
  return out;
};

describe('the home', () => {
  it.each([
    ['/', /root of the file system/],
    ['/usr', /system folder \/usr/],
    ['/etc/', /system folder \/etc/],
    ['/tmp/..', /root of the file system/],
    ['/var/lib/..', /system folder \/var/],
    ['/proc', /system folder \/proc/],
    ['/media', /system folder \/media/],
    ['/proc/1/root', /inside \/proc, the kernel's own file system/],
    ['/sys/kernel/ws', /inside \/sys/],
    ['/dev/shm/ws', /inside \/dev/],
  ])('refuses %s', (home, why) => {
    expect(unsafeHome(home, (p) => p)).toMatch(why);
  });

  it('refuses a symlink that leads to / or to a system folder', () => {
    expect(unsafeHome('/data/ws', links({ '/data/ws': '/' }))).toMatch(/root of the file system \(\/data\/ws leads to \/\)/);
    expect(unsafeHome('/data/ws/new', links({ '/data/ws': '/usr' }))).toBeNull();
    expect(unsafeHome('/data/ws', links({ '/data/ws': '/usr' }))).toMatch(/system folder \/usr/);
  });

  it('refuses a folder that holds a system folder through a symlink (/home linked into /data)', () => {
    expect(unsafeHome('/data', links({ '/home': '/data/home' }))).toMatch(/holds the system folder \/home \(\/data\/home\)/);
    expect(unsafeHome('/data/ws', links({ '/home': '/data/home' }))).toBeNull();
  });

  it('takes the default, a folder of its own and one below a system folder', () => {
    for (const h of ['/var/lib/workshop', '/tmp/ws-x', '/srv/class/ws', '/root/ws']) expect(unsafeHome(h, (p) => p)).toBeNull();
  });

  it('finds the real path of a home that does not exist yet from the part that does', () => {
    expect(realPathOf('/data/ws/a/b', (p) => {
      if (p === '/data/ws' || p === '/data' || p === '/') return p === '/data/ws' ? '/srv/ws' : p;
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    })).toBe('/srv/ws/a/b');
  });

  it('refuses --home / and WORKSHOP_HOME=/ with exit 2 and a hint, as it refuses an empty value', () => {
    for (const call of [() => resolveHome('/', {}), () => resolveHome(undefined, { WORKSHOP_HOME: '/' }), () => resolveHome('//', {})]) {
      const err = thrown(call);
      expect(err).toBeInstanceOf(WorkshopError);
      expect((err as WorkshopError).exitCode).toBe(2);
      expect((err as WorkshopError).hint).toContain('--home /var/lib/workshop');
    }
  });
});

describe('what clean may touch, checked again when it acts', () => {
  const home = '/srv/ws';
  it.each([
    ['/', true],
    ['/srv', true],
    ['/srv/ws', true],
    ['/proc/sys/fs/binfmt_misc', true],
    ['/sys/fs/cgroup/pids', true],
    ['/mnt', true],
    ['/srv/ws/chapters', true],
    ['/srv/ws/chapters/overlayfs/merged', false],
    ['/mnt/merged', false],
    ['/tmp/x1y2/overlay', false],
  ])('%s is protected: %s', (p, want) => {
    expect(isProtectedPath(p, home)).toBe(want);
  });

  it('refuses a protected mount, a loop that is not one, names without ws and folders not in /tmp', () => {
    expect(refusal({ kind: 'mount', id: '/', detail: '' }, home)).toMatch(/protected/);
    expect(refusal({ kind: 'mount', id: '/sys/fs/cgroup/pids', detail: '' }, home)).toMatch(/protected/);
    expect(refusal({ kind: 'mount', id: '/srv/ws/chapters/btrfs/store', detail: '' }, home)).toBeNull();
    expect(refusal({ kind: 'loop', id: '/dev/sda', detail: '' }, home)).toMatch(/not a loop device/);
    expect(refusal({ kind: 'netns', id: 'docker', detail: '' }, home)).toMatch(/ws prefix/);
    expect(refusal({ kind: 'cgroup', id: '/sys/fs/cgroup/system.slice', detail: '' }, home)).toMatch(/not a ws\* cgroup/);
    expect(refusal({ kind: 'cgroup', id: '/sys/fs/cgroup/pids/ws-demo', detail: '' }, home)).toBeNull();
    expect(refusal({ kind: 'tmpdir', id: '/tmp', detail: '' }, home)).toMatch(/directly in \/tmp/);
    expect(refusal({ kind: 'tmpdir', id: '/var/tmp/x', detail: '' }, home)).toMatch(/directly in \/tmp/);
    expect(refusal({ kind: 'process', id: '1', detail: '' }, home)).toMatch(/not a process/);
  });

  it('looks for containers in the workshop folders and our mounts, never in the home as a whole or in /', () => {
    const places = containerPlaces(home, ['/tmp/x1y2'], ['/', '/srv', `${home}/chapters/chroot/rootfs/proc`]);
    expect(places).toEqual([`${home}/chapters`, `${home}/progress`, `${home}/selftest`, `${home}/aswritten`, `${home}/lab`, '/tmp/x1y2', `${home}/chapters/chroot/rootfs/proc`]);
  });
});

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-unit-trust-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const future = new Date('2030-01-01T00:00:00Z');
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('every lock wait ends', () => {
  it('takes over garbage whose mtime is in the future (a clock that stepped back) once it has stayed a second', async () => {
    const p = join(dir, 'lock');
    for (const content of ['x\n', '']) {
      writeFileSync(p, content);
      utimesSync(p, future, future);
      const t0 = performance.now();
      const lock = await acquireLock(p, 'hint', { timeoutMs: 5000 });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
      expect(performance.now() - t0).toBeLessThan(3000);
      lock.release();
      expect(existsSync(p)).toBe(false);
    }
  });

  it('takes over a lock.takeover/ with a future mtime, left by a waiter that died', async () => {
    const p = join(dir, 'lock');
    writeFileSync(p, 'x');
    mkdirSync(`${p}.takeover`);
    utimesSync(`${p}.takeover`, future, future);
    utimesSync(p, future, future);
    const lock = await acquireLock(p, 'hint', { timeoutMs: 9000 });
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  }, 15_000);

  it('gives up after its time limit, naming the file, when something is in the way that is never stale', async () => {
    const p = join(dir, 'lock');
    writeFileSync(p, 'x');
    // a guard folder that cannot be removed: it is not empty
    mkdirSync(`${p}.takeover/keep`, { recursive: true });
    const t0 = performance.now();
    const err = await failure(acquireLock(p, 'hint', { timeoutMs: 1500 }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1500);
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as WorkshopError).message).toContain(`cannot take the lock ${p} after`);
    expect((err as WorkshopError).hint).toContain(`rm -rf ${p}.takeover`);
  });

  it('takes over a lock that is a dangling symlink or a symlink loop (link(2) says it exists, open says it does not)', async () => {
    const p = join(dir, 'lock');
    for (const target of ['/nonexistent/lock', p]) {
      symlinkSync(target, p);
      const t0 = performance.now();
      (await acquireLock(p, 'hint', { timeoutMs: 5000 })).release();
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('refuses a lock that is a FIFO at once (exit 3, not a regular file) instead of blocking on it', async () => {
    const p = join(dir, 'lock');
    execFileSync('mkfifo', [p]);
    const err = await failure(acquireLock(p, 'hint', { timeoutMs: 5000 }));
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as WorkshopError).message).toBe(`${p} is not a regular file: it is a named pipe (FIFO)`);
  });
});

describe('what a killed command leaves', () => {
  it('goes when its stale lock is taken over: the temp files of dead PIDs, never those of live ones', async () => {
    const dead = 2 ** 22 + 4321;
    const p = join(dir, 'lock');
    writeFileSync(p, JSON.stringify({ pid: dead, start: 1, command: 'next', at: 'x' }));
    for (const f of [`lock.${dead}.new`, `state.json.tmp-${dead}`, `lock.${process.ppid}.new`, `state.json.tmp-${process.ppid}`, 'state.json.tmp-notes']) writeFileSync(join(dir, f), '');
    (await acquireLock(p, 'hint')).release();
    expect(readdirSync(dir).sort()).toEqual([`lock.${process.ppid}.new`, 'state.json.tmp-notes', `state.json.tmp-${process.ppid}`].sort());
  });
});

describe('state.json', () => {
  it('reads a file that starts with a UTF-8 byte-order mark as the same progress', () => {
    const p = join(dir, 'state.json');
    const state = { formatVersion: 1, current: null, chapters: { chroot: { nonce: 'abc123', startedAt: 1, steps: { busybox: { attempts: 1, hintsShown: 0, done: { at: 'x', by: 'learner' } } } } } };
    writeFileSync(p, `\uFEFF${JSON.stringify(state)}`);
    expect(readState(p, true)).toEqual({ state, warnings: [] });
  });

  it('refuses a FIFO, a device and a directory as state.json (exit 3), without reading them', () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    for (const [p, kind] of [[fifo, 'a named pipe (FIFO)'], ['/dev/zero', 'a character device'], [dir, 'a directory']] as const) {
      const err = thrown(() => readState(p, false));
      expect((err as WorkshopError).exitCode, p).toBe(3);
      expect((err as WorkshopError).message).toBe(`${p} is not a regular file: it is ${kind}`);
    }
  });
});
