import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, loadState, saveState, validateState } from '../../src/engine/progress.ts';
import { acquireLock } from '../../src/engine/lock.ts';
import { WorkshopError } from '../../src/errors.ts';
import { decideVm } from '../../src/checks/host.ts';
import { requireVm } from '../../src/engine/guard.ts';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-unit-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('state.json', () => {
  it('starts empty when there is no file', () => {
    expect(loadState(join(dir, 'state.json'))).toEqual(emptyState());
  });
  it('round-trips through an atomic write and leaves no temp file', () => {
    const p = join(dir, 'state.json');
    const s = emptyState();
    s.current = { chapter: 'chroot', step: 'enter' };
    s.chapters['chroot'] = { nonce: 'n', startedAt: 1, steps: { enter: { attempts: 2, hintsShown: 1 } } };
    saveState(p, s);
    expect(loadState(p)).toEqual(s);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
  it('keeps a corrupt file aside and says how to start over', () => {
    const p = join(dir, 'state.json');
    writeFileSync(p, '{ not json');
    let err: unknown;
    try {
      loadState(p, new Date('2026-11-23T10:00:00Z'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkshopError);
    const e = err as WorkshopError;
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain('state.json.corrupt-2026-11-23T10-00-00-000Z');
    expect(e.hint).toContain('start over');
    expect(existsSync(p)).toBe(false);
    expect(readFileSync(`${p}.corrupt-2026-11-23T10-00-00-000Z`, 'utf8')).toBe('{ not json');
    expect(loadState(p)).toEqual(emptyState());
  });
  it.each([
    [{ formatVersion: 2, current: null, chapters: {} }, 'unknown formatVersion 2'],
    [{ formatVersion: 1, current: 'x', chapters: {} }, '"current" is malformed'],
    [{ formatVersion: 1, current: null, chapters: { a: { nonce: 1 } } }, 'chapter "a" is malformed'],
    [{ formatVersion: 1, current: null, chapters: { a: { nonce: 'n', startedAt: 1, steps: { s: {} } } } }, 'step "a/s" is malformed'],
  ])('rejects %j', (value, reason) => {
    const r = validateState(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('the lock', () => {
  it('is exclusive while its owner lives', () => {
    const p = join(dir, 'lock');
    writeFileSync(p, JSON.stringify({ pid: process.ppid, command: 'next' }));
    expect(() => acquireLock(p, 'solve')).toThrow(/another workshop command is running/);
  });
  it('takes over a stale lock whose owner is gone', () => {
    const p = join(dir, 'lock');
    writeFileSync(p, JSON.stringify({ pid: 2 ** 22 + 12345, command: 'next' }));
    const lock = acquireLock(p, 'solve');
    expect(JSON.parse(readFileSync(p, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(p)).toBe(false);
  });
  it('takes over a half-written lock', () => {
    const p = join(dir, 'lock');
    writeFileSync(p, '{"pi');
    acquireLock(p, 'solve').release();
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
