import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, hintCountsPath, readState, saveHintCounts, saveState, validateState } from '../../src/engine/progress.ts';
import { acquireLock } from '../../src/sys/lock.ts';
import { parseStatStart, processStart } from '../../src/sys/process.ts';
import { WorkshopError } from '../../src/errors.ts';
import { decideVm } from '../../src/sys/host.ts';
import { requireVm } from '../../src/engine/guard.ts';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-unit-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('state.json', () => {
  const at = new Date('2026-11-23T10:00:00Z');
  it('starts empty when there is no file', () => {
    expect(readState(join(dir, 'state.json'), true).state).toEqual(emptyState());
  });
  it('round-trips through an atomic write and leaves no temp file', () => {
    const p = join(dir, 'state.json');
    const s = emptyState();
    s.current = { chapter: 'chroot', step: 'enter' };
    s.chapters['chroot'] = { nonce: 'abc123', startedAt: 1, steps: { enter: { attempts: 2, hintsShown: 1 } } };
    saveState(p, s);
    expect(readState(p, false)).toEqual({ state: s, warnings: [] });
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
  it('keeps a corrupt file aside when a mutating command reads it, and starts over', () => {
    const p = join(dir, 'state.json');
    writeFileSync(p, '{ not json');
    const { state, warnings } = readState(p, true, at);
    expect(state).toEqual(emptyState());
    expect(warnings.join()).toContain('state.json.corrupt-2026-11-23T10-00-00-000Z');
    expect(existsSync(p)).toBe(false);
    expect(readFileSync(`${p}.corrupt-2026-11-23T10-00-00-000Z`, 'utf8')).toBe('{ not json');
  });
  it('never moves a corrupt file for a read-only command', () => {
    const p = join(dir, 'state.json');
    writeFileSync(p, '{ not json');
    const { state, warnings } = readState(p, false, at);
    expect(state).toEqual(emptyState());
    expect(warnings.join()).toMatch(/corrupt.*next command that records progress keeps the file aside/);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
  it('does not echo the bytes of a garbage file', () => {
    const p = join(dir, 'state.json');
    writeFileSync(p, 'SECRET\u0000\u0001garbage');
    const { warnings } = readState(p, false, at);
    expect(warnings.join()).not.toContain('SECRET');
  });
  it('salvages what is valid: one bad step is dropped, named, and the rest is kept', () => {
    const p = join(dir, 'state.json');
    const good = { attempts: 1, hintsShown: 0, done: { at: 'x', by: 'learner' } };
    writeFileSync(p, JSON.stringify({ formatVersion: 1, current: { chapter: 'chroot', step: 'enter' }, chapters: { chroot: { nonce: 'abc123', startedAt: 1, steps: { busybox: good, enter: { attempts: '2', hintsShown: 0 }, more: { attempts: 0, hintsShown: -5 } } } } }));
    const { state, warnings } = readState(p, true, at);
    expect(state.chapters['chroot']?.steps).toEqual({ busybox: good });
    expect(state.current).toEqual({ chapter: 'chroot', step: 'enter' });
    expect(warnings.join('\n')).toContain('step "chroot/enter" is malformed; dropped, the rest of your progress is kept');
    expect(warnings.join('\n')).toContain('step "chroot/more" is malformed');
    expect(existsSync(`${p}.salvaged-2026-11-23T10-00-00-000Z`)).toBe(true);
  });
  it('refuses a state from a newer workshop and leaves the file untouched', () => {
    const p = join(dir, 'state.json');
    const text = JSON.stringify({ formatVersion: 99, current: null, chapters: {} });
    writeFileSync(p, text);
    for (const mutating of [true, false]) {
      const err = (() => {
        try {
          readState(p, mutating);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(WorkshopError);
      expect((err as WorkshopError).exitCode).toBe(3);
      expect((err as WorkshopError).message).toContain('newer workshop (formatVersion 99');
    }
    expect(readFileSync(p, 'utf8')).toBe(text);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
  it('drops a chapter whose nonce could inject into a shown command', () => {
    const r = validateState({ formatVersion: 1, current: null, chapters: { a: { nonce: '$(rm -rf /)', startedAt: 1, steps: {} } } });
    expect(r.ok && r.dropped).toEqual(['chapter "a" is malformed']);
  });
  it.each([
    [{ formatVersion: 2, current: null, chapters: {} }, 'newer workshop'],
    [{ formatVersion: 0, current: null, chapters: {} }, 'unknown formatVersion 0'],
    [[], 'not a JSON object'],
  ])('refuses %j', (value, reason) => {
    const r = validateState(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
  it('an unwritable state is exit 3 with the path, and leaves no temp file', () => {
    const sub = join(dir, 'ro');
    mkdirSync(sub);
    mkdirSync(join(sub, 'state.json')); // a folder where the file should be: rename fails
    const err = (() => {
      try {
        saveState(join(sub, 'state.json'), emptyState());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WorkshopError);
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as WorkshopError).message).toContain(join(sub, 'state.json'));
    expect(readdirSync(sub)).toEqual(['state.json']);
  });
});

describe('the lock', () => {
  it('waits for a live owner, says whom it waits for, then fails after its time limit', async () => {
    const p = join(dir, 'lock');
    writeFileSync(p, JSON.stringify({ pid: process.ppid, start: processStart(process.ppid), command: 'next', at: 'x' }));
    const waited: string[] = [];
    const t0 = Date.now();
    const err = await acquireLock(p, 'solve', { timeoutMs: 300, noticeMs: 100, onWait: (o) => waited.push(`${o.command} ${o.pid}`) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(waited).toEqual([`next ${process.ppid}`]);
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as WorkshopError).message).toMatch(/another workshop command is running \(pid \d+: workshop next\)/);
  });
  it('gets the lock as soon as the owner releases it', async () => {
    const p = join(dir, 'lock');
    const t0 = Date.now();
    writeFileSync(p, JSON.stringify({ pid: process.ppid, start: processStart(process.ppid), command: 'hint', at: 'y' }));
    setTimeout(() => rmSync(p, { force: true }), 150);
    const lock = await acquireLock(p, 'goto');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(Date.now() - t0).toBeLessThan(2000);
    lock.release();
  });
  it('takes over a stale lock whose owner is gone', async () => {
    const p = join(dir, 'lock');
    writeFileSync(p, JSON.stringify({ pid: 2 ** 22 + 12345, start: 1, command: 'next', at: 'x' }));
    const lock = await acquireLock(p, 'solve');
    expect(JSON.parse(readFileSync(p, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(p)).toBe(false);
  });
  it('takes over a lock whose PID was reused by a live, unrelated process (pid 1, another start time)', async () => {
    const p = join(dir, 'lock');
    const real = processStart(1);
    writeFileSync(p, JSON.stringify({ pid: 1, start: (real ?? 0) + 12345, command: 'next', at: 'x' }));
    const t0 = Date.now();
    const lock = await acquireLock(p, 'solve', { timeoutMs: 2000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(JSON.parse(readFileSync(p, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });
  it('takes over a half-written lock', async () => {
    const p = join(dir, 'lock');
    writeFileSync(p, '{"pi');
    utimesSync(p, new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    (await acquireLock(p, 'solve')).release();
  });
  it('is re-entrant within a process', async () => {
    const p = join(dir, 'lock');
    const outer = await acquireLock(p, 'solve');
    const inner = await acquireLock(p, 'solve', { timeoutMs: 50 });
    inner.release();
    expect(existsSync(p)).toBe(true);
    outer.release();
    expect(existsSync(p)).toBe(false);
  });
  it('a lock that is a directory is exit 3 with what to do', async () => {
    const p = join(dir, 'lock');
    mkdirSync(p);
    const err = await acquireLock(p, 'next').then(() => undefined, (e: unknown) => e);
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as WorkshopError).hint).toContain(`rmdir ${p}`);
  });
  it('reads the start time from /proc/PID/stat, whose comm may hold spaces and parentheses', () => {
    const stat = '1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615';
    expect(parseStatStart(stat)).toBe(987654);
    expect(processStart(process.pid)).toBeGreaterThan(0);
  });
});

describe('the VM guard', () => {
  const flags = (f: string) => `processor\t: 0\nflags\t\t: fpu vme ${f}\n`;
  it('trusts systemd-detect-virt --vm', () => {
    expect(decideVm({ code: 0, stdout: 'kvm\n' }, flags(''))).toEqual({ vm: true, how: 'systemd-detect-virt --vm: kvm' });
  });
  it('falls back to the cpuinfo hypervisor flag', () => {
    expect(decideVm(undefined, flags('hypervisor')).vm).toBe(true);
  });
  it('says no on bare metal, where --vm prints none and exits 1', () => {
    const v = decideVm({ code: 1, stdout: 'none\n' }, flags('sse'));
    expect(v.vm).toBe(false);
    expect(v.how).toContain('none');
  });
  it('refuses a destructive command outside a VM, naming the override, with exit code 3', async () => {
    const bare = async () => decideVm({ code: 1, stdout: 'none\n' }, flags(''));
    const err = await requireVm(false, 'run a solution', bare).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkshopError);
    expect((err as WorkshopError).exitCode).toBe(3);
    expect((err as WorkshopError).message).toMatch(/^refusing to run a solution outside a VM/);
    expect((err as WorkshopError).hint).toContain('--allow-host (or WORKSHOP_ALLOW_HOST=1)');
    await expect(requireVm(true, 'run a solution', bare)).resolves.toBeUndefined();
  });
});

// `hint` keeps its counts in hints-shown.json, atomic but without fsync (issue 26): what a power cut
// may lose there is a hint count, never progress.
describe('hint counts beside state.json', () => {
  const started = () => {
    const s = emptyState();
    s.current = { chapter: 'chroot', step: 'enter' };
    s.chapters['chroot'] = { nonce: 'abc123', startedAt: 1, steps: { enter: { attempts: 2, hintsShown: 1 } } };
    return s;
  };
  it('raise the counts in state.json, and are written without touching it', () => {
    const p = join(dir, 'state.json');
    saveState(p, started());
    const before = readFileSync(p, 'utf8');
    const s = started();
    s.chapters['chroot']!.steps['enter']!.hintsShown = 3;
    s.chapters['chroot']!.steps['other'] = { attempts: 0, hintsShown: 2 };
    saveHintCounts(p, s);
    expect(readFileSync(p, 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['hints-shown.json', 'state.json']);
    const read = readState(p, false).state.chapters['chroot']!.steps;
    expect(read['enter']).toEqual({ attempts: 2, hintsShown: 3 });
    expect(read['other']).toEqual({ attempts: 0, hintsShown: 2 });
  });
  it('never lower a count in state.json, and count for nothing after the chapter is reset (a new nonce)', () => {
    const p = join(dir, 'state.json');
    const s = started();
    s.chapters['chroot']!.steps['enter']!.hintsShown = 5;
    saveState(p, s);
    writeFileSync(hintCountsPath(p), JSON.stringify({ format: 1, chapters: { chroot: { nonce: 'abc123', steps: { enter: 2 } } } }));
    expect(readState(p, false).state.chapters['chroot']!.steps['enter']!.hintsShown).toBe(5);
    writeFileSync(hintCountsPath(p), JSON.stringify({ format: 1, chapters: { chroot: { nonce: 'old999', steps: { enter: 9 } } } }));
    expect(readState(p, false).state.chapters['chroot']!.steps['enter']!.hintsShown).toBe(5);
  });
  it('lost in a power cut (empty, half a file, garbage), count as none: progress reads as before, without a warning', () => {
    const p = join(dir, 'state.json');
    saveState(p, started());
    for (const text of ['', '{"format":1,"chap', 'null', '{"format":1,"chapters":{"chroot":{"nonce":"abc123","steps":{"enter":-1,"../x":4}}}}']) {
      writeFileSync(hintCountsPath(p), text);
      expect(readState(p, true)).toEqual({ state: started(), warnings: [] });
    }
  });
});

