// `workshop clean` where learners run it: from a shell inside the chapter folder, piped into a
// pager, in a real terminal (tmux). It stops the containers, never the learner's shells.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, LESSONS, NODE, openWorkshop, spawnCollect, type Workshop } from '../helpers/workshop.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';

const gone = (pid: number): boolean => {
  const stat = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
  })();
  return stat === null || /\) Z /.test(stat);
};
const mounted = (p: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);

describe.skipIf(!isRoot || !hasTmux)('workshop clean from the learner’s terminal', () => {
  let ws: Workshop;
  let dir = '';
  beforeAll(async () => {
    ws = await openWorkshop('/tmp/ws-clean-it-');
    const r = await ws.cli(['solve', 'chroot/symlinks', '--through']);
    expect(r.code, r.stderr).toBe(0);
    dir = (await ws.cli(['path', 'chroot'])).stdout.trim();
  });
  afterAll(async () => ws.dispose());

  it('runs from inside the chapter folder it deletes, and exits 0', async () => {
    const r = await spawnCollect(NODE, [CLI, '--lessons', LESSONS, '--home', ws.home, 'clean'], { cwd: dir });
    // 0, or 1 when another test on this machine holds a ws* object busy: never the crash (70)
    expect(r.stderr).not.toContain('bug in workshop');
    expect(r.stderr).not.toContain('ENOENT');
    expect([0, 1], r.stderr).toContain(r.code);
    expect(r.stdout).toContain('Left after cleaning:');
  });

  it("stops a container rooted in the chapter, names the shell that is inside, and leaves it and `| cat` alive", async () => {
    expect((await ws.cli(['solve', 'chroot/symlinks', '--through'])).code).toBe(0);
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt, { recursive: true });
    expect((await spawnCollect('mount', ['-t', 'tmpfs', 'ws-clean-it', mnt])).code).toBe(0);
    let container: ChildProcess | undefined;
    const term = Tmux.start('clean', { cwd: mnt });
    try {
      container = spawn('chroot', [path.join(dir, 'rootfs'), '/bin/busybox', 'sleep', '600'], { stdio: 'ignore' });
      const containerPid = container.pid ?? 0;
      const shell = term.panePid();
      term.type(`${NODE} ${CLI} --lessons ${LESSONS} --home ${ws.home} clean 2>&1 | cat; echo "rc=\${PIPESTATUS[0]}"`);
      const screen = await term.waitFor(/rc=\d+/, 60_000);
      expect(screen).toMatch(new RegExp(`bash \\(PID ${shell}\\) is inside ${mnt}; cd out of it`));
      // the chapter's own cleanup stops it (kill -9), or clean's discovery does (kill -KILL)
      expect(screen).toMatch(new RegExp(`kill (-KILL|-9) ${containerPid}\\b`));
      expect(screen).not.toContain(`kill -KILL ${shell}`);
      expect(screen).toContain('detaching it lazily');
      expect(screen).not.toContain('bug in workshop');
      expect(screen).toMatch(/rc=[01]\b/);
      expect(term.alive()).toBe(true);
      expect(gone(containerPid)).toBe(true);
      expect(mounted(mnt)).toBe(false);
      // the shell still answers
      term.type('echo still-here');
      await term.waitFor(/^still-here$/m);
    } finally {
      term.kill();
      container?.kill('SIGKILL');
      if (mounted(mnt)) await spawnCollect('umount', ['-l', mnt]);
    }
  });
});
