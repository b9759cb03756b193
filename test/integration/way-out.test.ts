// Issue 21, through the built CLI as root: every near-miss of the learner's path has a way out,
// the text works after a rewind, and the diagnoses point the right way. Each test is the
// learner's own sequence: the commands of the text, the mistake, then `next`, `solve` or a restore.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, isRoot, LESSONS, NODE, openWorkshop, spawnCollect, type Workshop } from '../helpers/workshop.ts';

let ws: Workshop;
beforeEach(async () => {
  ws = await openWorkshop('/tmp/ws-it-wayout-', { allowHost: true });
});
afterEach(async () => {
  await ws.dispose();
});

const plain = { env: { NO_COLOR: '1' } };
const ok = async (args: readonly string[]): Promise<string> => {
  const r = await ws.cli(args, plain);
  expect(r.code, `workshop ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout + r.stderr;
};
const path = async (chapter: string): Promise<string> => (await ws.cli(['path', chapter])).stdout.trim();
/** bash in `cwd`, as the learner types it (with the chapter's variables when asked). */
const bash = (cwd: string, script: string) => spawnCollect('bash', ['-c', script], { cwd, timeoutMs: 60_000 });

describe.skipIf(!isRoot)('the way out of a near-miss', () => {
  it('chroot: --install without -s is named as hard links, with the way out, and solve gets out of it (item 1)', async () => {
    await ok(['goto', 'chroot/symlinks']);
    await ok(['solve', 'chroot/busybox', '--through']);
    const dir = await path('chroot');
    expect((await bash(dir, 'chroot rootfs /bin/busybox --install')).code).toBe(0);
    const next = await ws.cli(['next'], plain);
    expect(next.code).toBe(1);
    // the table wraps its cells: read them as one line
    const rows = next.stdout.replace(/\s+/g, ' ');
    expect(rows).toContain('hard links: `--install` without `-s`');
    // said once, on bin/sh; the other four rows point to it
    expect(rows.match(/hard links: `--install` without `-s`/g)?.length).toBe(1);
    expect(rows.match(/a hard link to rootfs\/bin\/busybox, as rootfs\/bin\/sh above/g)?.length).toBe(4);
    expect(rows).toMatch(/find rootfs -samefile rootfs\/bin\/busybox ! -path rootfs\/bin\/busybox -delete; chroot rootfs \/bin\/busybox --install -s/);
    // the hint's command on a line of its own, whole: a copy of it runs (the walk copied 'find rootfs' ⏎ '-samefile …')
    expect(next.stdout.split('\n').map((l) => l.trim())).toContain('find rootfs -samefile rootfs/bin/busybox ! -path rootfs/bin/busybox -delete; chroot rootfs /bin/busybox --install -s');
    // the hint of issue 21 did not replace them: --install -s again still fails
    await bash(dir, 'chroot rootfs /bin/busybox --install -s');
    expect((await ws.cli(['check'], plain)).code).toBe(1);
    const solved = await ws.cli(['solve'], plain);
    expect(solved.code, solved.stdout + solved.stderr).toBe(0);
    expect(solved.stdout).toContain('chroot/symlinks passes');
  });

  it('overlayfs: goto into the middle names the steps not done and the catch-up (item 3)', async () => {
    await ok(['goto', 'overlayfs/cow']);
    const next = await ws.cli(['next'], plain);
    expect(next.code).toBe(1);
    expect(next.stdout).toContain('steps 1 (dirs) and 2 (mount) are not done, and this step builds on them: `workshop solve --through overlayfs/mount` catches up');
    const json = JSON.parse((await ws.cli(['--json', 'next'])).stdout) as { notDone: string[] };
    expect(json.notDone).toEqual(['overlayfs/dirs', 'overlayfs/mount']);
    await ok(['solve', '--through', 'overlayfs/mount']);
    const after = await ws.cli(['next'], plain);
    expect(after.code).toBe(1);
    expect(after.stdout).not.toMatch(/not done, and this step builds/);
  });

  it('overlayfs: swapped layers are named in every row, and drawn as wrong (item 9)', async () => {
    await ok(['goto', 'overlayfs/mount']);
    const dir = await path('overlayfs');
    const n = `ws${Date.now().toString(36)}s`;
    // the layers given the other way round; the workdir beside rootfs, on its file system
    try {
      const r = await bash(dir, `mkdir -p /tmp/${n}/upper /tmp/${n}/workdir /tmp/${n}/overlay ws-work && mount -t overlay -o lowerdir=/tmp/${n}/upper,upperdir=rootfs,workdir=ws-work none /tmp/${n}/overlay`);
      expect(r.code, r.stderr).toBe(0);
      const next = await ws.cli(['next'], plain);
      expect(next.code).toBe(1);
      expect(next.stdout).not.toContain('none is mounted');
      expect(next.stdout.match(/swapped/g)?.length).toBeGreaterThanOrEqual(2);
      // the way out is one line to copy, its umount included
      expect(next.stdout).toContain(`umount /tmp/${n}/overlay; mount -t overlay -o lowerdir=rootfs,`);
      const state = await ws.cli(['state'], plain);
      expect(state.stdout).toContain('✘ upper is the image rootfs: lower and upper are swapped');
      expect(state.stdout).toMatch(/├ upper {4}rootfs ✘/);
      // seen in the walk: a restore listed the folder, and left the swapped overlay mounted on rootfs
      const restore = await ws.cli(['goto', 'overlayfs/mount', '--restore', '--yes'], plain);
      expect(restore.code, restore.stdout + restore.stderr).toBe(0);
      expect(restore.stderr).toContain(`the overlay mounted at /tmp/${n}/overlay`);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`/tmp/${n}/overlay`);
      expect(existsSync(`/tmp/${n}`)).toBe(false);
    } finally {
      await bash('/', `umount -l /tmp/${n}/overlay 2>/dev/null; rm -rf --one-file-system /tmp/${n}`);
    }
  });

  it('btrfs: store.img made in the wrong folder is shown by its absolute path, with where you are (item 8)', async () => {
    await ok(['goto', 'btrfs/image']);
    const dir = await path('btrfs');
    const elsewhere = mkdtempSync(join(tmpdir(), 'ws-it-wayout-cwd-'));
    try {
      expect((await bash(elsewhere, 'truncate -s 1G store.img && mkfs.btrfs -q -f store.img')).code).toBe(0);
      const next = await ws.cli(['next'], { ...plain, cwd: elsewhere });
      expect(next.code).toBe(1);
      expect(next.stdout).toContain(`${dir}/store.img: nothing there`);
      expect(next.stdout).toContain(`You are in ${elsewhere}, and the chapter's folder is ${dir}`);
      expect(next.stdout).toContain(`${elsewhere}/store.img is there: made in the wrong folder`);
      // from the chapter folder, no such line
      const there = await ws.cli(['next'], { ...plain, cwd: dir });
      expect(there.stdout).not.toContain('You are in');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!isRoot)('diagnoses that point the right way (items 7, 10)', () => {
  it('btrfs/incremental after a full receive: the hint names store/, then the old copy and "File exists", not "send with -p" again (item 7)', async () => {
    await ok(['goto', 'btrfs']);
    await ok(['solve', 'btrfs/send', '--through']);
    const dir = await path('btrfs');
    // the learner's sequence of issue 21: the change, the snapshot, a full send received
    const full = await bash(dir, 'mkdir -p store/base/etc; echo "version 2" > store/base/etc/version; btrfs subvolume snapshot -r store/base store/base-snapshot2; btrfs send store/base-snapshot2 -f base-inc; btrfs receive -f base-inc store/received');
    expect(full.code, full.stderr).toBe(0);
    const first = (await ws.cli(['next'], plain)).stdout.replace(/\s+/g, ' ');
    expect(first).toContain('btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc');
    // then the right send; its receive is refused, and the rows say why
    const inc = await bash(dir, 'btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc; btrfs receive -f base-inc store/received');
    expect(inc.stderr).toContain('File exists');
    const next = await ws.cli(['next'], plain);
    expect(next.code).toBe(1);
    const rows = next.stdout.replace(/\s+/g, ' ');
    expect(rows).toContain('received from a full stream');
    expect(rows).toContain('btrfs subvolume delete store/received/base-snapshot2; btrfs receive -f base-inc store/received');
    expect(rows).not.toMatch(/send with -p/i);
    // the row's way out, typed as it is: the step passes
    expect((await bash(dir, 'btrfs subvolume delete store/received/base-snapshot2; btrfs receive -f base-inc store/received')).code).toBe(0);
    expect((await ws.cli(['next'], plain)).code).toBe(0);
  });

  it('networking/internet after a NAT flush and a lost ping: the rows say the ping left and found no NAT (item 10)', async () => {
    await ok(['goto', 'networking']);
    await ok(['solve', 'networking/nat', '--through']);
    const host = (line: string) => ws.cli(['shell', 'host', '--', 'sh', '-c', line]);
    expect((await host('iptables -t nat -F POSTROUTING')).code).toBe(0);
    // the learner's ping: 100 % lost, since the answer has no way back
    expect((await host('ip netns exec ws-box ping -c 1 -W 1 198.51.100.1')).code).not.toBe(0);
    const next = await ws.cli(['next'], plain);
    expect(next.code).toBe(1);
    const rows = next.stdout.replace(/\s+/g, ' ');
    expect(rows).toContain('the ping left the container and found no NAT on the way out');
    expect(rows).toContain('POSTROUTING of table nat is empty');
    expect(rows).toContain('iptables -t nat -A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE');
    expect(rows).not.toContain('nothing from the container has gone out yet');
    expect(rows).not.toContain('not tried');
    // the way out: the rule again, then a ping
    expect((await host('iptables -t nat -A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE && ip netns exec ws-box ping -c 1 -W 1 198.51.100.1')).code).toBe(0);
    const after = await ws.cli(['next'], plain);
    expect(after.code, after.stdout).toBe(0);
  });
});

describe.skipIf(!isRoot)('the text after a rewind (items 4, 5)', () => {
  it('overlayfs: the restore lists the mount and its /tmp folder, builds in /tmp, and prints the nonce to paste; the text then works', async () => {
    await ok(['goto', 'overlayfs']);
    await ok(['solve', 'overlayfs/cow', '--through']);
    const status = JSON.parse((await ws.cli(['--json', 'env', 'overlayfs'])).stdout) as Record<string, string>;
    const old = `/tmp/${status['WORKSHOP_NONCE'] ?? ''}`;
    const r = await ws.cli(['goto', 'overlayfs/whiteout', '--restore', '--yes'], plain);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // the prompt: the overlay's mount and its /tmp folder, and nothing blamed on container.sh
    expect(r.stderr).toContain(`the overlay mounted at ${old}/overlay`);
    expect(r.stderr).toContain(`${old}/, its upper, workdir and overlay folders`);
    expect(r.stderr).not.toContain('container.sh');
    const paste = /^nonce=(\S+)$/m.exec(r.stdout);
    expect(paste, r.stdout).not.toBeNull();
    const nonce = paste?.[1] ?? '';
    expect(existsSync(`/tmp/${nonce}/overlay/etc/motd`)).toBe(true);
    // the step's text, with the pasted line: the commands work again
    const dir = await path('overlayfs');
    const typed = await bash(dir, `nonce=${nonce}\nrm /tmp/$nonce/overlay/etc/motd\nls -l /tmp/$nonce/upper/etc`);
    expect(typed.code, typed.stderr).toBe(0);
    const next = await ws.cli(['next'], plain);
    expect(next.code, next.stdout).toBe(0);
    expect(next.stdout).toContain('overlayfs/whiteout passed');
  });

  it('chroot: the restore says it removes rootfs before it does', async () => {
    await ok(['goto', 'chroot']);
    await ok(['solve', 'chroot/enter', '--through']);
    const r = await ws.cli(['goto', 'chroot/mutable', '--restore', '--yes'], plain);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/It removes:\n {2}rootfs\/, with everything in it/);
    expect(r.stderr).not.toContain('nothing of this chapter is there now');
  });

  it('a chapter with nothing there says so, and names no other chapter\'s things', async () => {
    await ok(['goto', 'overlayfs']);
    await ok(['solve', 'overlayfs/mount', '--through']);
    const r = await ws.cli(['goto', 'chroot/busybox', '--restore', '--yes'], plain);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/It removes:\n {2}\(nothing of this chapter is there now\)/);
    expect(r.stderr).not.toContain('/tmp/');
  });

  it('solve builds where the text says: the learner\'s own /tmp/$nonce folders', async () => {
    await ok(['goto', 'overlayfs/mount']);
    const dir = await path('overlayfs');
    const n = `ws${Date.now().toString(36)}m`;
    expect((await bash(dir, `mkdir -p /tmp/${n}/upper /tmp/${n}/workdir /tmp/${n}/overlay`)).code).toBe(0);
    const out = await ok(['solve']);
    expect(out).toContain(`/tmp/${n}/overlay`);
    expect(out).toMatch(new RegExp(`^nonce=${n}$`, 'm'));
  });
});

describe.skipIf(!isRoot)('where next goes (items 15, 16)', () => {
  it('passes over a chapter already done to the first step not done, and says when every step is', async () => {
    await ok(['solve', 'chroot/cleanup-hello', '--through']);
    await ok(['solve', 'preflight/tools', '--through']);
    // back on the last step of preflight, done; chroot is done too
    await ok(['goto', 'preflight/tools']);
    const next = JSON.parse((await ws.cli(['--json', 'next'])).stdout) as { passed: boolean; next: string | null };
    expect(next).toMatchObject({ passed: true, next: 'overlayfs/dirs' });
    const status = await ws.cli(['status'], plain);
    expect(status.stdout).toMatch(/Step 1\/7: .*\(overlayfs\/dirs\)/);
    expect(status.stdout).not.toContain('✔ done');
  });

  it('prints the pass before the set-up of the next chapter', async () => {
    await ok(['solve', 'chroot/mutable', '--through']);
    await ok(['goto', 'chroot/cleanup-hello']);
    const dir = await path('chroot');
    expect((await bash(dir, 'rm rootfs/HELLO.txt')).code).toBe(0);
    const both = await bash(dir, `NO_COLOR=1 ${[NODE, CLI, '--lessons', LESSONS, '--home', ws.home, '--allow-host', 'next'].join(' ')} 2>&1`);
    expect(both.code, both.stdout).toBe(0);
    const passed = both.stdout.indexOf('chroot/cleanup-hello passed');
    const closing = both.stdout.indexOf('What you built');
    const setup = both.stdout.indexOf('Setting up chapter overlayfs');
    const step = both.stdout.indexOf('Step 1/7');
    expect(passed).toBeGreaterThan(0);
    expect([passed < closing, closing < setup, setup < step]).toEqual([true, true, true]);
  });
});
