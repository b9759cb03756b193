// Issue 19 (items 1, 4-10, 17, 18) and issue 21 item 6, through the built binary: homes that would
// make the machine residue, clean keeping progress and running each chapter's own cleanup, every
// lock wait ending, files that are not regular files, the machine's errors as exit 3, and reset
// asking first on a terminal. What could harm the machine if it were wrong (clean on `/`, clean
// beside unrelated mounts and processes) is proven in the guest: test/vm/guest-trust.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStart } from '../../src/sys/process.ts';
import { backgroundWorkerPack, makePack, type Pack } from '../helpers/pack.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';
import { CLI, isRoot, NODE, progressOf, REPO, spawnCollect, workshop, type Ran } from '../helpers/workshop.ts';

const RACE = path.join(REPO, 'test/fixtures/lessons/race');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

let home = '';
beforeEach(() => {
  home = mkdtempSync('/tmp/ws-trust-');
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** `workshop ARGS` through a shell, for redirections the harness has no pipe for. */
const shell = (script: string, opts: { cwd?: string } = {}): Promise<Ran> => spawnCollect('bash', ['-c', script], { cwd: opts.cwd ?? '/', timeoutMs: 30_000 });
const W = `${NODE} ${CLI}`;

/** No crash, ever: no stack trace and no "bug in workshop". */
function sane(r: Ran): void {
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr).not.toContain('bug in workshop');
}

describe.skipIf(!isRoot)('homes and lessons that are refused', () => {
  it.each([
    ['--home /', ['--home', '/'], {}],
    ['--home "$UNSET/"', ['--home', `${process.env['WS_TRUST_NEVER_SET'] ?? ''}/`], {}],
    ['--home /tmp/..', ['--home', '/tmp/..'], {}],
    ['--home /usr', ['--home', '/usr'], {}],
    ['WORKSHOP_HOME=/', [], { WORKSHOP_HOME: '/' }],
  ])('%s: exit 2 with a hint, and nothing is read or written there', async (_, args, env) => {
    // only `status`, which writes nothing even where it is not refused; the rest is the guest's
    const r = await workshop(home, [...args, 'status'], { env });
    sane(r);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: refusing \/(usr)? as the workshop's home \((--home|WORKSHOP_HOME)\): it is the (root of the file system|system folder \/usr)$/m);
    expect(r.stderr).toContain('hint: workshop keeps its files there and `clean` empties it');
    expect(r.stdout).toBe('');
  });

  it('a symlink that leads to / is refused as / is', async () => {
    const link = path.join(home, 'root-link');
    symlinkSync('/', link);
    const r = await workshop(home, ['--home', link, 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`it is the root of the file system (${link} leads to /)`);
  });

  it("--lessons '' is refused as --home '' is", async () => {
    for (const flag of ['--lessons', '--home']) {
      const r = await workshop(home, [flag, '', 'list']);
      sane(r);
      expect(r.code, `${flag} ''`).toBe(2);
      expect(r.stderr).toContain(`error: ${flag} needs a folder, not an empty value`);
    }
  });

  it('a relative --home after the current folder was deleted is exit 3 with what to do', async () => {
    const gone = mkdtempSync('/tmp/ws-trust-cwd-');
    const r = await shell(`cd ${gone} && rmdir ${gone} && ${W} --home rel status; echo "rc=$?" >&2`);
    sane(r);
    expect(r.stderr).toContain('rc=3');
    expect(r.stderr).toContain('error: --home rel is relative, and the current folder no longer exists (it was deleted)');
    expect(r.stderr).toContain('hint: cd to a folder that exists');
  });
});

describe.skipIf(!isRoot)('the output and the state file', () => {
  it('workshop list > /dev/full is exit 3 (no space), not a bug', async () => {
    for (const json of ['', '--json']) {
      const r = await shell(`WORKSHOP_HOME=${home} ${W} ${json} list > /dev/full; echo "rc=$?" >&2`);
      sane(r);
      expect(r.stderr).toContain('rc=3');
      expect(r.stderr).toContain('error: cannot write the output: no space is left on the device (ENOSPC)');
    }
  });

  it('a FIFO as state.json is exit 3 "not a regular file" for status, list and hint, at once', async () => {
    execFileSync('mkfifo', [path.join(home, 'state.json')]);
    for (const verb of ['status', 'list', 'hint']) {
      const r = await workshop(home, [verb], { timeoutMs: 20_000 });
      sane(r);
      expect(r.code, `${verb}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`error: ${home}/state.json is not a regular file: it is a named pipe (FIFO)`);
    }
  });

  it('a UTF-8 byte-order mark before state.json is not corruption: 7 done steps stay 7', async () => {
    const done = { attempts: 1, hintsShown: 0, done: { at: '2026-12-01T00:00:00.000Z', by: 'learner' } };
    const steps = Object.fromEntries(['one', 'two', 'three', 'four', 'five'].map((s) => [s, done]));
    const state = { formatVersion: 1, current: null, chapters: { race: { nonce: 'abc123', startedAt: 1, steps }, chroot: { nonce: 'def456', startedAt: 1, steps: { 'rootfs-dirs': done, busybox: done } } } };
    // the race pack's own progress (a loose --lessons folder keeps its own, issue 27)
    const file = progressOf(home, RACE).statePath;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `\uFEFF${JSON.stringify(state)}`);
    const r = await workshop(home, ['--json', '--lessons', RACE, 'list']);
    expect(r.stderr).not.toContain('corrupt');
    const hint = await workshop(home, ['--lessons', RACE, 'hint']);
    expect(hint.code, hint.stderr).toBe(0);
    // (hint writes only its count, beside state.json: the mark may still be there)
    const saved = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as typeof state;
    const count = Object.values(saved.chapters).reduce((n, c) => n + Object.values(c.steps).filter((s) => 'done' in s).length, 0);
    expect(count).toBe(7);
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('corrupt'))).toEqual([]);
  });
});

describe.skipIf(!isRoot)('every lock wait ends', () => {
  const future = new Date('2030-01-01T00:00:00Z');
  const lock = () => path.join(home, 'lock');

  it.each([
    ['a lock of garbage', 'x\n'],
    ['an empty lock', ''],
  ])('%s with a future mtime (a clock that stepped back) is taken over', async (_, content) => {
    writeFileSync(lock(), content);
    utimesSync(lock(), future, future);
    const t0 = Date.now();
    const r = await workshop(home, ['--lessons', RACE, 'hint'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(existsSync(lock())).toBe(false);
  });

  it('a lock.takeover/ with a future mtime, left by a waiter that died, is taken over', async () => {
    writeFileSync(lock(), 'x');
    mkdirSync(`${lock()}.takeover`);
    utimesSync(`${lock()}.takeover`, future, future);
    utimesSync(lock(), future, future);
    const r = await workshop(home, ['--lessons', RACE, 'hint'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(home).filter((f) => f.startsWith('lock'))).toEqual([]);
  });

  it('something in the way that never goes stale ends the wait after 10 s: exit 3, naming the file and what to do', async () => {
    writeFileSync(lock(), 'x');
    mkdirSync(`${lock()}.takeover/not-empty`, { recursive: true });
    const t0 = Date.now();
    const r = await workshop(home, ['--lessons', RACE, 'hint'], { timeoutMs: 30_000 });
    sane(r);
    expect(r.code, r.stderr).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(10_000);
    expect(r.stderr).toContain(`error: cannot take the lock ${lock()} after 10 s`);
    expect(r.stderr).toContain(`rm -rf ${lock()}.takeover; rm -f ${lock()}`);
  });

  it('a lock that is a FIFO is exit 3 "not a regular file", at once', async () => {
    execFileSync('mkfifo', [lock()]);
    const r = await workshop(home, ['--lessons', RACE, 'hint'], { timeoutMs: 20_000 });
    sane(r);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error: ${lock()} is not a regular file: it is a named pipe (FIFO)`);
  });

  it('a live owner is waited for, and named; the wait still ends', async () => {
    writeFileSync(lock(), JSON.stringify({ pid: process.pid, start: processStart(process.pid), command: 'solve', at: 'x' }));
    const r = await workshop(home, ['--lessons', RACE, 'hint'], { timeoutMs: 30_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`waiting for workshop solve (pid ${process.pid})…`);
    expect(r.stderr).toContain(`the lock is ${lock()}`);
  });
});

describe.skipIf(!isRoot)('a full disk', () => {
  let mnt = '';
  beforeEach(async () => {
    mnt = mkdtempSync('/tmp/ws-trust-full-');
    expect((await spawnCollect('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'ws-trust-full', mnt])).code).toBe(0);
  });
  afterEach(async () => {
    await spawnCollect('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('is exit 3 naming the lock, and leaves no lock.<pid>.new behind, attempt after attempt', async () => {
    const h = path.join(mnt, 'home');
    mkdirSync(h);
    expect((await workshop(h, ['--lessons', RACE, 'hint'])).code).toBe(0);
    const file = progressOf(h, RACE).statePath;
    const before = readFileSync(file, 'utf8');
    await shell(`dd if=/dev/zero of=${mnt}/fill bs=4k 2>/dev/null; true`);
    for (let i = 0; i < 3; i++) {
      const r = await workshop(h, ['--lessons', RACE, 'hint']);
      sane(r);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`error: cannot take the lock ${h}/lock: the disk is full`);
    }
    expect(readdirSync(h).filter((f) => f.startsWith('lock'))).toEqual([]);
    // nothing lost: the progress is as it was
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});

describe.skipIf(!isRoot)('workshop test with a home that does not exist yet', () => {
  it('creates the home, runs, and leaves no /run/workshop-oldtmp.* behind', async () => {
    const oldtmp = () => readdirSync('/run').filter((f) => f.startsWith('workshop-oldtmp.'));
    const had = oldtmp();
    const fresh = path.join(home, 'not', 'yet');
    const r = await workshop(fresh, ['--lessons', RACE, 'test'], { timeoutMs: 120_000 });
    sane(r);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(fresh)).toBe(true);
    expect(oldtmp()).toEqual(had);
  });

  it('is exit 3 with what failed when the private /tmp cannot bind back the lessons, and removes its folder', async () => {
    const had = readdirSync('/run').filter((f) => f.startsWith('workshop-oldtmp.'));
    // a pack in /tmp that is not there: the private /tmp cannot bind it back (one inside the home would come with it)
    const r = await workshop(home, ['--lessons', `/tmp/ws-trust-no-pack-${process.pid}`, 'test'], { timeoutMs: 120_000 });
    sane(r);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error: cannot give the self-test a private /tmp and /var/tmp:');
    expect(readdirSync('/run').filter((f) => f.startsWith('workshop-oldtmp.'))).toEqual(had);
  });
});

/** A pack whose first step starts a background `sleep` and writes its PID file in the chapter folder. */

const alive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.skipIf(!isRoot)('workshop clean', () => {
  it('keeps the progress and says so; reset --all is what forgets it, and asks for --yes without a terminal', async () => {
    for (const s of ['one', 'two', 'three']) expect((await workshop(home, ['--lessons', RACE, 'solve', `race/${s}`])).code).toBe(0);
    const r = await workshop(home, ['--lessons', RACE, 'clean']);
    sane(r);
    expect(r.code, r.stderr).toBe(0);
    // its prompts carry the one-off --lessons (issue 27)
    expect(r.stdout).toContain(`progress kept: 3 steps done; \`workshop --lessons ${RACE} goto <step> --restore\` rebuilds a chapter`);
    expect(existsSync(progressOf(home, RACE).chaptersDir)).toBe(false);
    const status = JSON.parse((await workshop(home, ['--json', '--lessons', RACE, 'status'])).stdout) as { done: number };
    expect(status.done).toBe(3);

    const refused = await workshop(home, ['--lessons', RACE, 'reset', '--all']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error: reset --all removes the things listed above, and has no terminal to ask');
    expect(JSON.parse((await workshop(home, ['--json', '--lessons', RACE, 'status'])).stdout)).toMatchObject({ done: 3 });
    const forgot = await workshop(home, ['--lessons', RACE, 'reset', '--all', '--yes']);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toContain('All progress is forgotten (3 steps done before)');
    expect(JSON.parse((await workshop(home, ['--json', '--lessons', RACE, 'status'])).stdout)).toMatchObject({ done: 0, current: 'race/one' });
  });

  it("runs a pack's own cleanup first: its background process is stopped through its PID file", async () => {
    const pack = backgroundWorkerPack("if (pid !== '') await $`kill ${pid}`.nothrow();");
    let pid = 0;
    try {
      expect((await workshop(home, ['--lessons', pack.dir, 'solve', 'bg/start'])).code).toBe(0);
      pid = Number(readFileSync(path.join(progressOf(home, pack.dir).chapterDir('bg'), 'worker.pid'), 'utf8'));
      expect(alive(pid)).toBe(true);
      const r = await workshop(home, ['--lessons', pack.dir, 'clean']);
      sane(r);
      expect(r.stderr).toContain('▶ the cleanup of chapter bg');
      expect(r.stderr).toContain(`$ kill ${pid}`);
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 20));
      expect(alive(pid)).toBe(false);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).not.toContain('your shell');
    } finally {
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      pack.dispose();
    }
  });

  it('never says "nothing left" while a process it knows of runs inside, and never calls it your shell', async () => {
    const pack = backgroundWorkerPack('void pid;');
    let pid = 0;
    try {
      expect((await workshop(home, ['--lessons', pack.dir, 'solve', 'bg/start'])).code).toBe(0);
      pid = Number(readFileSync(path.join(progressOf(home, pack.dir).chapterDir('bg'), 'worker.pid'), 'utf8'));
      const r = await workshop(home, ['--lessons', pack.dir, 'clean']);
      sane(r);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('nothing of the workshop is left');
      expect(r.stdout).toContain(`sleep (PID ${pid}) runs inside ${progressOf(home, pack.dir).chapterDir('bg')}`);
      expect(r.stdout).not.toMatch(/your shell sleep/);
      expect(alive(pid)).toBe(true);
    } finally {
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      pack.dispose();
    }
  });

  it('never says "nothing left" when a chapter\'s own cleanup failed: what only it knew of may be left', async () => {
    const pack = backgroundWorkerPack("if (pid !== '') await $`kill ${pid}`.nothrow();\n    throw new Error('the worker would not stop');");
    try {
      expect((await workshop(home, ['--lessons', pack.dir, 'solve', 'bg/start'])).code).toBe(0);
      const r = await workshop(home, ['--lessons', pack.dir, 'clean']);
      sane(r);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toContain('could not finish the cleanup of chapter bg: ');
      expect(r.stderr).toContain('the worker would not stop');
      expect(r.stdout).not.toContain('nothing of the workshop is left');
      expect(r.stdout).toContain('1 action(s) failed, so what they were to remove may be left; see above.');
      const json = await workshop(home, ['--json', '--lessons', pack.dir, 'clean']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ clean: false, cleanups: [{ chapter: 'bg', status: 'failed' }] });
    } finally {
      pack.dispose();
    }
  });

  it('a chapter whose folder clean removed is set up again when the learner carries on, with its progress', async () => {
    expect((await workshop(home, ['solve', 'overlayfs/dirs', '--through'])).code).toBe(0);
    const dir = path.join(home, 'chapters/overlayfs');
    expect(existsSync(path.join(dir, 'rootfs/bin/busybox'))).toBe(true);
    expect((await workshop(home, ['clean'])).code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    const p = await workshop(home, ['path', 'overlayfs']);
    expect(p.code, p.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'rootfs/bin/busybox'))).toBe(true);
    const state = JSON.parse(readFileSync(path.join(home, 'state.json'), 'utf8')) as { chapters: Record<string, { steps: Record<string, { done?: unknown }> }> };
    expect(state.chapters['overlayfs']?.steps['dirs']?.done).toBeDefined();
    await workshop(home, ['clean']);
  });
});

describe.skipIf(!isRoot || !hasTmux)('workshop reset asks first on a terminal, as goto --restore does', () => {
  const stepsDone = async (): Promise<number> => (JSON.parse((await workshop(home, ['--json', '--lessons', RACE, 'status'])).stdout) as { done: number }).done;

  it('lists what will go and asks; "n" changes nothing; --yes, a pipe and --json do not ask', async () => {
    for (const s of ['one', 'two']) expect((await workshop(home, ['--lessons', RACE, 'solve', `race/${s}`])).code).toBe(0);
    const term = Tmux.start('reset', { cwd: '/tmp', width: 120, height: 40 });
    const ws = `${W} --lessons ${RACE} --home ${home}`;
    try {
      term.type(`${ws} reset race; echo "rc=$?"`);
      const asked = await term.waitFor(/Go ahead\? \[y\/N\]/);
      expect(asked).toContain('Resetting chapter race runs its cleanup, and removes:');
      expect(asked).toContain(`the folder ${progressOf(home, RACE).chapterDir('race')} (one.txt, two.txt)`);
      expect(asked).toContain('your progress in race: 2 of 5 steps done');
      term.type('n');
      expect(await term.waitFor(/rc=\d+/)).toMatch(/Nothing was changed\.\s+rc=1/);
      expect(await stepsDone()).toBe(2);

      // what a command printed: the screen after its own marker line
      const after = async (mark: string, command: string): Promise<string> => {
        term.type(`echo ${mark}; ${command}; echo "rc=$?"`);
        const screen = await term.waitFor(new RegExp(`^${mark}$[\\s\\S]*rc=\\d+`, 'm'));
        return screen.slice(screen.search(new RegExp(`^${mark}$`, 'm')));
      };
      const yes = await after('MARK-YES', `${ws} reset race --yes`);
      expect(yes).not.toContain('Go ahead?');
      expect(yes).toContain('rc=0');
      expect(await stepsDone()).toBe(0);

      const json = await after('MARK-JSON', `${ws} --json reset race > /dev/null`);
      expect(json).not.toContain('Go ahead?');
      expect(json).toContain('rc=0');
    } finally {
      term.kill();
    }
    // in a pipe (no terminal on stdin): no question, as before
    const piped = await workshop(home, ['--lessons', RACE, 'reset', 'race']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).not.toContain('Go ahead?');
  });

  it('reset --all on a terminal lists every chapter and all progress, and asks', async () => {
    expect((await workshop(home, ['--lessons', RACE, 'solve', 'race/one'])).code).toBe(0);
    const term = Tmux.start('reset-all', { cwd: '/tmp', width: 120, height: 40 });
    try {
      term.type(`${W} --lessons ${RACE} --home ${home} reset --all; echo "rc=$?"`);
      const asked = await term.waitFor(/Go ahead\? \[y\/N\]/);
      expect(asked).toContain('your progress in race: 1 of 5 steps done');
      expect(asked).toContain('all your progress: 1 step done; you start again at the first step');
      term.type('y');
      expect(await term.waitFor(/rc=\d+/)).toContain('rc=0');
      expect(await stepsDone()).toBe(0);
    } finally {
      term.kill();
    }
  });
});
