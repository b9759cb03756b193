// `workshop reset` runs the chapter's cleanup, which stops the containers it finds: a process
// rooted in the chapter (a chroot), never the learner's shell whose cwd is merely there.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isContainerUnder } from '../../src/checks/proc.ts';
import { isRoot, workshop } from '../helpers/workshop.ts';

const alive = (pid: number | undefined): boolean => pid !== undefined && existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('who a cleanup may stop', () => {
  it.each([
    ['a chroot in the chapter', { pid: 1, root: '/h/chapters/c/rootfs', cwd: '/' }, true],
    ['an unshare container started from the chapter', { pid: 1, root: '/', cwd: '/h/chapters/c', isolated: true }, true],
    ['the learner shell in the chapter folder', { pid: 1, root: '/', cwd: '/h/chapters/c', isolated: false }, false],
    ['a shell whose folder was deleted', { pid: 1, root: '/', cwd: '/h/chapters/c (deleted)' }, false],
    ['a container elsewhere', { pid: 1, root: '/srv/x', cwd: '/', isolated: true }, false],
  ])('%s', (_n, place, want) => {
    expect(isContainerUnder(place, ['/h/chapters/c'])).toBe(want);
  });
});

let children: ChildProcess[] = [];
let home = '';
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
  if (home) {
    await workshop(home, ['clean', '--allow-host']);
    rmSync(home, { recursive: true, force: true });
  }
});

describe.skipIf(!isRoot)('workshop reset', () => {
  it("stops a shell left in the chroot, and leaves the learner's shell in the chapter folder alone", async () => {
    home = mkdtempSync(join(tmpdir(), 'ws-it-reset-'));
    const solved = await workshop(home, ['--allow-host', 'solve', 'chroot/symlinks', '--through']);
    expect(solved.code, solved.stderr).toBe(0);
    const dir = join(home, 'chapters', 'chroot');
    const shell = spawn('sleep', ['300'], { cwd: dir, stdio: 'ignore' });
    const chrooted = spawn('chroot', ['rootfs', '/bin/busybox', 'sleep', '300'], { cwd: dir, stdio: 'ignore' });
    children.push(shell, chrooted);
    await new Promise((r) => setTimeout(r, 300));
    const r = await workshop(home, ['--allow-host', 'reset', 'chroot']);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(shell.pid)).toBe(true);
    expect(alive(chrooted.pid)).toBe(false);
  });
});
