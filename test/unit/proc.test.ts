import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPathUnder, listPids, nsLinks, parseStatus, procCwd, processPlaces, procRoot, processesUnder } from '../../src/checks/proc.ts';

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '../fixtures/proc', name), 'utf8');

describe('parseStatus', () => {
  it.each([
    ['status-host.txt', { name: 'cat', pid: 4369, ppid: 4365, nspid: [4369], uid: [0, 0, 0, 0], state: 'R' }],
    ['status-unshare-pid.txt', { name: 'cat', pid: 4368, ppid: 4367, nspid: [4368, 1], uid: [0, 0, 0, 0], state: 'R' }],
    ['status-kthreadd.txt', { name: 'kthreadd', pid: 2, ppid: 0, nspid: [2], uid: [0, 0, 0, 0], state: 'S' }],
  ])('reads %s', (name, expected) => {
    expect(parseStatus(fixture(name))).toEqual(expected);
  });

  it('falls back to Pid when a kernel has no NSpid line', () => {
    const text = fixture('status-host.txt').replace(/^NSpid:.*\n/m, '');
    expect(parseStatus(text).nspid).toEqual([4369]);
  });

  it('refuses text that is not a status file', () => {
    expect(() => parseStatus('hello\n')).toThrow(/not a \/proc\/PID\/status/);
  });
});

describe('isPathUnder', () => {
  it.each([
    ['/a/b', '/a/b', true],
    ['/a/b/c', '/a/b', true],
    ['/a/b/c', '/a/b/', true],
    ['/a/bc', '/a/b', false],
    ['/a', '/a/b', false],
    ['/anything', '/', true],
  ])('%s under %s is %s', (p, dir, expected) => {
    expect(isPathUnder(p, dir)).toBe(expected);
  });
});

describe('live /proc', () => {
  it('lists our own PID and reads our root, cwd and namespaces', async () => {
    expect(await listPids()).toContain(process.pid);
    expect(await procRoot(process.pid)).toBe('/');
    expect(await procCwd(process.pid)).toBe(process.cwd());
    expect((await nsLinks(process.pid)).mnt).toMatch(/^mnt:\[\d+\]$/);
  });

  it('answers null or empty for a PID that does not exist', async () => {
    expect(await procRoot(2 ** 22 + 1)).toBeNull();
    expect(await procCwd(2 ** 22 + 1)).toBeNull();
    expect(await nsLinks(2 ** 22 + 1)).toEqual({});
  });

  it('never lists PID 1 or itself', async () => {
    const pids = await processesUnder('/');
    expect(pids).not.toContain(1);
    expect(pids).not.toContain(process.pid);
  });

  it('finds a process by its cwd, and reads the isolation flag only when asked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-proc-'));
    const child = spawn('sleep', ['30'], { cwd: dir, stdio: 'ignore' });
    try {
      const pid = child.pid ?? 0;
      expect(await processesUnder(dir)).toEqual([pid]);
      expect((await processPlaces('places')).find((p) => p.pid === pid)).toEqual({ pid, root: '/', cwd: dir });
      expect((await processPlaces()).find((p) => p.pid === pid)).toEqual({ pid, root: '/', cwd: dir, isolated: false });
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
