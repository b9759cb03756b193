// The learner's loop, end to end through the built binary, as root, in a temporary WORKSHOP_HOME.
// Steps are done by hand with the seed's literal commands (CSC Containers), as a learner types them.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESC, isRoot, NODE, CLI, sh, workshop } from '../helpers/workshop.ts';
import { spawnSync } from 'node:child_process';
import { readState } from '../../src/engine/progress.ts';

let home = '';
const ws = (...args: string[]) => workshop(home, args);
const current = async () => (JSON.parse((await ws('status', '--json')).stdout) as { current: string }).current;
const dir = (chapter: string) => join(home, 'chapters', chapter);
const mountsOfHome = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(home) || l.includes('lowerdir=rootfs'));

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-it-learner-'));
});
afterAll(async () => {
  await ws('clean');
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('the learner flow', () => {
  it('starts at preflight/vm, and next fails with a table of check / expected / actual', async () => {
    const s = await ws('status');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('Step 1/3: Check that you are in a VM (preflight/vm)');
    const n = await ws('next');
    expect(n.code).toBe(1);
    expect(n.stdout).toMatch(/✘ vm.txt is a file\n\s+expected\s+.*\n\s+actual\s+/);
    expect(n.stdout).toContain('✔ this machine is a VM');
    expect(await current()).toBe('preflight/vm');
  });

  it('gives two different hints when asked twice, and remembers the count', async () => {
    const h1 = await ws('hint');
    const h2 = await ws('hint');
    expect(h1.stdout).toMatch(/^Hint 1\/2 for preflight\/vm:/);
    expect(h2.stdout).toMatch(/^Hint 2\/2 for preflight\/vm:/);
    expect(h1.stdout.split('\n')[1]).not.toBe(h2.stdout.split('\n')[1]);
    // (kept in hints-shown.json beside state.json, which reading the progress takes into account)
    expect(readState(join(home, 'state.json'), false).state.chapters['preflight']?.steps['vm']?.hintsShown).toBe(2);
  });

  it('advances when the step is done by hand', async () => {
    expect((await sh(dir('preflight'), 'systemd-detect-virt --vm | tee vm.txt')).code).toBe(0);
    const n = await ws('next');
    expect(n.code).toBe(0);
    expect(n.stdout).toContain('preflight/vm passed');
    expect(n.stdout).toContain('Become root');
    expect(await current()).toBe('preflight/root');
  });

  it('catches up a chapter with solve --through', async () => {
    const r = await ws('solve', 'preflight/tools', '--through');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('id -u > uid.txt'); // each command is printed
    expect(await current()).toBe('chroot/rootfs-dirs');
  });

  it("accepts the seed's literal chroot commands, step by step", async () => {
    const d = dir('chroot');
    const typed: Array<[string, string, string?]> = [
      ['rootfs-dirs', 'mkdir -p rootfs/bin rootfs/sbin rootfs/usr/bin rootfs/usr/sbin'],
      ['busybox', 'cp /bin/busybox rootfs/bin/busybox && chmod +x rootfs/bin/busybox'],
      ['symlinks', 'chroot rootfs /bin/busybox --install -s'],
      ['enter', 'PS1="C-$ " chroot rootfs /bin/busybox sh', 'touch HELLO.txt\nls\nexit\n'],
      ['mutable', 'PS1="C-$ " chroot rootfs /bin/busybox sh', `echo NONCE > /HELLO.txt\nexit\n`],
      ['cleanup-hello', 'PS1="C-$ " chroot rootfs /bin/busybox sh', 'ls\nrm HELLO.txt\nexit\n'],
    ];
    const nonce = (JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { chapters: Record<string, { nonce: string }> }).chapters['chroot']?.nonce ?? '';
    expect(nonce).not.toBe('');
    for (const [step, cmd, input] of typed) {
      expect(await current()).toBe(`chroot/${step}`);
      const r = await sh(d, cmd, input?.replace('NONCE', nonce));
      expect(r.code, `${step}: ${r.stderr}`).toBe(0);
      const n = await ws('next');
      expect(n.code, `${step}: ${n.stdout}`).toBe(0);
    }
    expect(await current()).toBe('overlayfs/dirs');
  });

  it("accepts the seed's overlay commands, with /tmp/$nonce and lowerdir=rootfs typed as in container.sh", async () => {
    const d = dir('overlayfs');
    expect(existsSync(join(d, 'rootfs/bin/busybox'))).toBe(true); // the chapter's setup built it
    const nonce = `ws${Date.now().toString(36)}`;
    expect((await sh(d, `mkdir -p /tmp/${nonce}/upper /tmp/${nonce}/workdir /tmp/${nonce}/overlay`)).code).toBe(0);
    expect((await ws('next')).code).toBe(0);
    const m = await sh(d, `mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/${nonce}/upper,workdir=/tmp/${nonce}/workdir none /tmp/${nonce}/overlay`);
    expect(m.code, m.stderr).toBe(0);
    const n = await ws('next');
    expect(n.code, n.stdout).toBe(0);
    expect(await current()).toBe('overlayfs/cow');
    const wrong = await ws('check', 'overlayfs/whiteout');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('upper/etc/motd is a whiteout');
  });

  it('lists the valid step ids for an unknown step', async () => {
    const r = await ws('show', 'overlayfs/nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown step "overlayfs/nope"');
    expect(r.stderr).toContain('steps of overlayfs: dirs, mount, cow, whiteout, opaque, script, proc-leak');
  });

  it('solves the rest of the chapter with solve --through', async () => {
    const r = await ws('solve', 'overlayfs/proc-leak', '--through');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const list = JSON.parse((await ws('list', '--json')).stdout) as { chapters: Array<{ id: string; steps: Array<{ status: string }> }> };
    const ov = list.chapters.find((c) => c.id === 'overlayfs');
    expect(ov?.steps.every((s) => s.status === 'done')).toBe(true);
  });

  it('resets a chapter: its mounts go and its steps are undone', async () => {
    const r = await ws('reset', 'overlayfs');
    expect(r.code, r.stderr).toBe(0);
    expect(await current()).toBe('overlayfs/dirs');
    expect(mountsOfHome().filter((l) => l.includes(dir('overlayfs')))).toEqual([]);
  });

  it('cleans everything, including the /tmp/$nonce folders of the seed, and leaves zero residue', async () => {
    const d = dir('overlayfs');
    const nonce = `ws${Date.now().toString(36)}c`;
    await sh(d, `mkdir -p /tmp/${nonce}/upper /tmp/${nonce}/workdir /tmp/${nonce}/overlay && mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/${nonce}/upper,workdir=/tmp/${nonce}/workdir none /tmp/${nonce}/overlay`);
    const r = await ws('clean', '--json');
    const out = JSON.parse(r.stdout) as { cleanups: Array<{ chapter: string; status: string }>; after: unknown[]; clean: boolean };
    // the chapter's own cleanup runs first, and unmounts the seed's overlay; discovery takes what it leaves
    expect(out.cleanups).toContainEqual({ chapter: 'overlayfs', status: 'ok' });
    expect(out.after).toEqual([]);
    expect(r.code).toBe(0);
    expect(existsSync(`/tmp/${nonce}`)).toBe(false);
    expect(mountsOfHome()).toEqual([]);
  });
});

describe.skipIf(!isRoot)('output for scripts and pipes', () => {
  const commands: string[][] = [['status'], ['show'], ['show', 'chroot/enter'], ['list'], ['hint'], ['doctor'], ['lint'], ['path'], ['env'], ['check'], ['next'], ['goto', 'chroot/enter'], ['test', '--chapter', 'chroot'], ['solve'], ['reset', 'chroot'], ['clean']];

  it.each(commands)('workshop %s --json prints one JSON document', async (...args) => {
    const r = await ws(...args, '--json');
    expect(() => JSON.parse(r.stdout), `${args.join(' ')}: ${r.stdout.slice(0, 200)}`).not.toThrow();
    expect(r.stdout).not.toMatch(ESC);
  });

  it('prints no escape codes when NO_COLOR is set or stdout is not a TTY', async () => {
    for (const args of [['status'], ['show'], ['list'], ['doctor'], ['check']]) {
      const r = await workshop(home, args, { env: { NO_COLOR: '1' } });
      expect(r.stdout + r.stderr).not.toMatch(ESC);
    }
  });

  it('reports an error as JSON too, with the exit code', async () => {
    const r = await ws('goto', 'nowhere', '--json');
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message).toContain('unknown chapter');
  });
});

describe.skipIf(!isRoot)('bad input never crashes', () => {
  it('status leaves a corrupt state.json alone; a mutating command keeps it aside and starts over', async () => {
    const h = mkdtempSync(join(tmpdir(), 'ws-it-corrupt-'));
    try {
      writeFileSync(join(h, 'state.json'), '{"formatVersion": 1, "chap');
      const r = await workshop(h, ['status']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^warning: .*state\.json is corrupt \(not valid JSON.*\); showing a fresh start/);
      expect(readdirSync(h)).toEqual(['state.json']);
      const hint = await workshop(h, ['hint']);
      expect(hint.code, hint.stderr).toBe(0);
      expect(hint.stderr).toMatch(/warning: .*state\.json was corrupt .*kept as .*state\.json\.corrupt-.*progress starts over/);
      expect(hint.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(h).filter((f) => f.startsWith('state.json.corrupt-'))).toHaveLength(1);
      expect((await workshop(h, ['status'])).stderr).toBe('');
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });

  it('asks for root for the commands that need it, with exit code 3', async () => {
    const h = mkdtempSync(join(tmpdir(), 'ws-it-user-'));
    chmodSync(h, 0o755);
    try {
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NODE, CLI, 'next'], { encoding: 'utf8', env: { ...process.env, WORKSHOP_HOME: h } });
      expect(r.status).toBe(3);
      expect(r.stderr).toContain('run it as root: sudo workshop next');
      const ok = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NODE, CLI, 'status'], { encoding: 'utf8', env: { ...process.env, WORKSHOP_HOME: h } });
      expect(ok.status).toBe(0);
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });

  it('watch --once checks the current step once and exits with its verdict', async () => {
    const h = mkdtempSync(join(tmpdir(), 'ws-it-watch-'));
    try {
      const failing = await workshop(h, ['watch', '--once']);
      expect(failing.code).toBe(1);
      expect(failing.stdout).toContain('✘ vm.txt is a file');
      await sh(join(h, 'chapters', 'preflight'), 'systemd-detect-virt --vm > vm.txt');
      const passing = await workshop(h, ['watch', '--once', '--advance', '--json']);
      expect(passing.code).toBe(0);
      expect((JSON.parse(passing.stdout.split('\n')[0] ?? '') as { passed: boolean }).passed).toBe(true);
      expect((JSON.parse((await workshop(h, ['status', '--json'])).stdout) as { current: string }).current).toBe('preflight/root');
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });

  it('select without a terminal points to goto', async () => {
    const r = await ws('select');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('workshop goto <chapter/step>');
  });

  it('answers an unknown command with a did-you-mean and exit code 2', async () => {
    const r = await ws('stauts');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "workshop status"?');
  });

  it('prints help for every command', async () => {
    for (const verb of ['status', 'show', 'next', 'check', 'hint', 'solve', 'watch', 'select', 'goto', 'list', 'reset', 'clean', 'doctor', 'test', 'lint', 'path', 'env']) {
      const r = await ws(verb, '--help');
      expect(r.code, verb).toBe(0);
      expect(r.stdout, verb).toMatch(new RegExp(`^usage: workshop ${verb}`));
    }
  });
});
