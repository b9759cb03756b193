// `workshop pack`, through the built binary (issue 27): a pack installed from a folder (proven by
// `workshop test`), from a git repository and from an `npm pack` tarball made here; selected once,
// a step played with no flag, its progress its own, and removed. Bad sources leave nothing behind.
//
//   sudo flock /tmp/workshop-system.lock npx vitest run test/integration/packs.test.ts
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backgroundWorkerPack } from '../helpers/pack.ts';
import { isRoot, LESSONS, REPO, sh, spawnCollect, workshop } from '../helpers/workshop.ts';

const GOOD = path.join(REPO, 'test/fixtures/lessons/good');

describe.skipIf(!isRoot)('lesson packs as packages', () => {
  let base = '';
  let home = '';
  const ws = (args: readonly string[], env: Record<string, string | null> = {}) => workshop(home, args, { env: { NO_COLOR: '1', WORKSHOP_ALLOW_HOST: '1', WORKSHOP_LESSONS: null, ...env }, timeoutMs: 120_000 });
  /** nothing but installed packs (and the in-use record) in the packs folder: no staging left */
  const packsLeft = () => readdirSync(path.join(home, 'packs')).filter((n) => n !== '.in-use').sort();

  beforeAll(async () => {
    base = mkdtempSync('/tmp/ws-packs-');
    home = path.join(base, 'home');
    // the same chapter as a git repository and as an npm package, with a version to pin
    const src = path.join(base, 'src');
    cpSync(GOOD, src, { recursive: true });
    writeFileSync(path.join(src, 'package.json'), `${JSON.stringify({ name: '@ws-test/greeting-npm', version: '1.2.3', type: 'module', files: ['01-greeting'] })}\n`);
    const git = await sh(src, 'git init -q && git add -A && git -c user.email=t@example.org -c user.name=t commit -qm pack && git rev-parse HEAD');
    expect(git.code, git.stderr).toBe(0);
    const npm = await spawnCollect('npm', ['pack', '--pack-destination', base], { cwd: src });
    expect(npm.code, npm.stderr).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('installs from a folder only after lint and `workshop test` pass, and reports what it requires', async () => {
    const r = await ws(['pack', 'add', GOOD]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('lint: 1 chapter(s), 2 step(s), no problems');
    expect(`${r.stdout}${r.stderr}`).toMatch(/pass greeting: 2 steps/);
    expect(r.stdout).toContain(`installed good (1 chapter(s), 2 step(s)) in ${home}/packs/good`);
    expect(r.stdout).toMatch(/✔ greeting +ready/);
    expect(packsLeft()).toEqual(['good']);
  });

  it('installs from a git repository, pinned to its commit, and from an npm pack tarball, pinned to its version', async () => {
    const commit = (await sh(path.join(base, 'src'), 'git rev-parse HEAD')).stdout.trim();
    const g = await ws(['pack', 'add', `file://${base}/src`, '--name', 'viagit', '--no-test']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toContain(`version 1.2.3, commit ${commit.slice(0, 12)}`);
    // --no-test says what was not proven
    expect(g.stderr).toMatch(/warning: not proven \(--no-test\): that solve makes each of the 2 step\(s\) pass, that every mutant fails/);
    const n = await ws(['pack', 'add', path.join(base, 'ws-test-greeting-npm-1.2.3.tgz'), '--no-test', '--json']);
    expect(n.code, n.stderr).toBe(0);
    expect(JSON.parse(n.stdout)).toMatchObject({ pack: { name: 'greeting-npm', kind: 'npm', version: '1.2.3', commit: null, tested: 'skipped' }, chapters: ['greeting'] });
    expect(existsSync(path.join(home, 'packs/viagit/.git'))).toBe(false);
    expect(packsLeft()).toEqual(['good', 'greeting-npm', 'viagit']);
    const list = await ws(['pack', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ inUse: 'builtin', packs: [{ name: 'builtin' }, { name: 'good' }, { name: 'greeting-npm' }, { name: 'viagit', record: { commit } }] });
  });

  it('selects a pack once: status, path and next need no flag, and its progress is its own', async () => {
    expect((await ws(['pack', 'use', 'viagit'])).code).toBe(0);
    const status = await ws([]);
    expect(status.stdout).toContain('Chapter 01: A greeting pack (greeting)');
    const dir = (await ws(['path'])).stdout.trim();
    expect(dir).toBe(path.join(home, 'progress/viagit/chapters/greeting'));
    const env = await ws(['env']);
    const nonce = /WORKSHOP_NONCE=['"]?(\w+)/.exec(env.stdout)?.[1] ?? '';
    expect(nonce).not.toBe('');
    writeFileSync(path.join(dir, 'greeting.txt'), `hello ${nonce}\n`);
    const next = await ws(['next']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('greeting/greet');
    const state = JSON.parse(readFileSync(path.join(home, 'progress/viagit/state.json'), 'utf8')) as { chapters: Record<string, { steps: Record<string, { done?: unknown }> }> };
    expect(state.chapters['greeting']?.steps['greet']?.done).toBeDefined();
    // the built-in lessons' progress and the other packs' were not touched
    expect(existsSync(path.join(home, 'state.json'))).toBe(false);
    expect(existsSync(path.join(home, 'progress/good'))).toBe(false);
    // list numbers the chapter by its folder (01-greeting), and shows the other packs beside it
    const list = await ws(['list']);
    expect(list.stdout).toMatch(/^01 A greeting pack \(greeting\)$/m);
    expect(list.stdout).toMatch(/Pack builtin \(\d+ chapters, 0\/\d+ steps done; `workshop pack use builtin`\)/);
    expect(list.stdout).toContain('Pack good (1 chapters, 0/2 steps done');
  });

  it('lets --lessons and WORKSHOP_LESSONS choose for one command, the flag first', async () => {
    expect((await ws(['path'], { WORKSHOP_LESSONS: LESSONS })).stdout.trim()).toBe(path.join(home, 'chapters/preflight'));
    expect((await ws(['--lessons', path.join(home, 'packs/good'), 'path'], { WORKSHOP_LESSONS: LESSONS })).stdout.trim()).toBe(path.join(home, 'progress/good/chapters/greeting'));
    // and a one-off --lessons is carried into the prompts it prints
    const hint = await ws(['--lessons', GOOD, 'next']);
    expect(hint.stdout).toContain(`run \`workshop --lessons ${GOOD} next\` again`);
  });

  it('refuses a missing folder, a folder that is no pack, a bad URL and a name taken, and leaves nothing behind', async () => {
    const missing = await ws(['pack', 'add', path.join(base, 'no-such-pack')]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('error: no such folder or tarball')]);
    const notPack = await ws(['pack', 'add', base]);
    expect([notPack.code, notPack.stderr]).toEqual([4, expect.stringMatching(/error: \S+ is not a lesson pack: no chapters/)]);
    const badUrl = await ws(['pack', 'add', `file://${base}/nothing.git`]);
    expect([badUrl.code, badUrl.stderr]).toEqual([3, expect.stringContaining('error: git clone')]);
    const option = await ws(['pack', 'add', '--', '--upload-pack=touch /tmp/ws-pwned']);
    expect(option.code).toBe(2);
    const taken = await ws(['pack', 'add', GOOD, '--no-test']);
    expect([taken.code, taken.stderr]).toEqual([2, expect.stringContaining('a pack named good is installed already')]);
    const escape = await ws(['pack', 'add', GOOD, '--name', '../../etc', '--no-test']);
    expect([escape.code, escape.stderr]).toEqual([2, expect.stringContaining("cannot be a pack's name")]);
    expect(packsLeft()).toEqual(['good', 'greeting-npm', 'viagit']);
    expect(existsSync('/tmp/ws-pwned')).toBe(false);
  });

  it('refuses to remove the pack in use, removes one that is not, and keeps its progress', async () => {
    const inUse = await ws(['pack', 'remove', 'viagit']);
    expect([inUse.code, inUse.stderr]).toEqual([2, expect.stringContaining('viagit is the pack in use')]);
    expect((await ws(['pack', 'use', 'builtin'])).code).toBe(0);
    const gone = await ws(['pack', 'remove', 'viagit']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(packsLeft()).toEqual(['good', 'greeting-npm']);
    expect(existsSync(path.join(home, 'progress/viagit/state.json'))).toBe(true);
    const again = await ws(['pack', 'remove', 'viagit']);
    expect([again.code, again.stderr]).toEqual([2, expect.stringContaining('no pack named "viagit" is installed')]);
    expect((await ws(['path'])).stdout.trim()).toBe(path.join(home, 'chapters/preflight'));
  });

  it("runs the pack's own cleanups before it goes, and keeps a pack whose cleanup failed", async () => {
    const ok = backgroundWorkerPack("if (pid !== '') await $`kill ${pid}`.nothrow();", '/tmp/ws-packs-bg-');
    const broken = backgroundWorkerPack("throw new Error('the worker would not stop');", '/tmp/ws-packs-bg-');
    const pids: number[] = [];
    /** installs `pack` as `name`, starts its worker with no flag, and goes back to the built-in lessons */
    const started = async (pack: { dir: string }, name: string): Promise<number> => {
      const added = await ws(['pack', 'add', pack.dir, '--name', name, '--no-test']);
      expect(added.code, added.stderr).toBe(0);
      expect((await ws(['pack', 'use', name])).code).toBe(0);
      const solved = await ws(['solve', 'bg/start']);
      expect(solved.code, solved.stderr).toBe(0);
      const pid = Number(readFileSync(path.join(home, 'progress', name, 'chapters/bg/worker.pid'), 'utf8'));
      pids.push(pid);
      expect(alive(pid)).toBe(true);
      expect((await ws(['pack', 'use', 'builtin'])).code).toBe(0);
      return pid;
    };
    try {
      const pid = await started(ok, 'ws-bg');
      const r = await ws(['pack', 'remove', 'ws-bg']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('▶ the cleanup of chapter bg');
      expect(r.stdout).toContain('Ran the cleanup of 1 chapter(s) of ws-bg (bg) and removed their folders.');
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 20));
      expect(alive(pid)).toBe(false);
      expect(existsSync(path.join(home, 'progress/ws-bg/chapters'))).toBe(false);
      expect(existsSync(path.join(home, 'progress/ws-bg/state.json'))).toBe(true);
      expect(packsLeft()).not.toContain('ws-bg');

      await started(broken, 'ws-bg-broken');
      const failed = await ws(['pack', 'remove', 'ws-bg-broken']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('error: the cleanup of chapter bg failed: ');
      expect(failed.stderr).toContain('the worker would not stop');
      expect(failed.stderr).toContain('hint: the pack ws-bg-broken is kept');
      expect(packsLeft()).toContain('ws-bg-broken');
      const forced = await ws(['pack', 'remove', 'ws-bg-broken', '--no-cleanup']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).not.toContain('the cleanup of chapter');
      expect(packsLeft()).not.toContain('ws-bg-broken');
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      ok.dispose();
      broken.dispose();
      rmSync(path.join(home, 'progress/ws-bg-broken'), { recursive: true, force: true });
    }
  });
});

const alive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
