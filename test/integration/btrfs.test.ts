// Chapter 04 (btrfs) on the real kernel: the self-test through the built CLI, the lvm chapter's
// skip on this machine, and a learner typing the seed's commands and the valid alternatives.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOk } from '../../src/sys/exec.ts';
import { parseLosetupJson } from '../../src/checks/loop.ts';
import { mountsUnder, readMountinfo } from '../../src/checks/mounts.ts';
import { chapterSelfTest, openWorkshop, PARTITIONED_STORE_IMG, type Workshop, isRoot } from '../helpers/workshop.ts';


describe.skipIf(!isRoot)('chapter btrfs', () => {
  const { cli } = chapterSelfTest('/tmp/ws-fs3-it-', ['btrfs', 'lvm'], {
    title: 'passes every phase of `workshop test` and leaves no residue; lvm is skipped with the device-mapper reason',
    expected: [['btrfs', 'pass'], ['lvm', 'skipped']],
    also: (report) => expect(report.chapters[1]?.reason).toMatch(/^no device-mapper: dmsetup targets failed/),
  });

  describe('a learner working through the chapter', () => {
    let ws: Workshop;
    let dir = '';
    beforeAll(async () => {
      ws = await openWorkshop('/tmp/ws-fs3-learner-', { cli: cli() });
      expect((await ws.cli(['goto', 'btrfs/image'])).code).toBe(0);
      dir = path.join(ws.home, 'chapters/btrfs');
    });
    afterAll(async () => ws.dispose());

    const typed = async (script: string) => {
      const r = await ws.shell('btrfs', script);
      expect(r.stderr).not.toMatch(/command not found/);
      expect(r.code).toBe(0);
      return ws.cli(['next']);
    };

    it('rejects a store image that is too small, with what to do', async () => {
      await ws.shell('btrfs', 'truncate -s 200M store.img; mkfs.btrfs -f store.img');
      const r = await ws.cli(['next']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('too small for a store');
    });

    /** `workshop --json next`: its failing rows, as the learner's table shows them. */
    const failingRows = async (): Promise<Array<{ check: string; expected?: string; actual?: string; hint?: string }>> => {
      const r = await ws.cli(['--json', 'next']);
      expect(r.code).toBe(1);
      const v = JSON.parse(r.stdout) as { results: Array<{ status: string; check: string; expected?: string; actual?: string; hint?: string }> };
      return v.results.filter((x) => x.status !== 'pass').map(({ check, expected, actual, hint }) => ({ check, ...(expected === undefined ? {} : { expected }), ...(actual === undefined ? {} : { actual }), ...(hint === undefined ? {} : { hint }) }));
    };

    it('accepts the seed\'s commands, with busybox for pacstrap and property set ro true for snapshot -r', async () => {
      expect((await typed('rm store.img; truncate -s 1G store.img; mkfs.btrfs -f store.img')).code).toBe(0);
      // Issue 12, item 8: the image also mounted at mnt/ is rejected, with what to unmount.
      await ws.shell('btrfs', 'mkdir -p store mnt; mount -o loop store.img store; mount -o loop store.img mnt');
      expect(await failingRows()).toEqual([
        {
          check: 'store is btrfs on a loop device backed by store.img',
          expected: 'store.img mounted only at store',
          actual: expect.stringMatching(/^it is also mounted at mnt \(\/dev\/loop\d+\)$/) as unknown as string,
          hint: 'Mount the image only once: umount mnt',
        },
      ]);
      expect((await typed('umount mnt')).code).toBe(0);
      // Issue 12, item 7: a plain mkdir store/base gets a hint that removes it first, and the hint works.
      await ws.shell('btrfs', 'mkdir store/base');
      expect(await failingRows()).toEqual([
        {
          check: 'store/base is a btrfs subvolume (inode 256)',
          expected: 'a subvolume',
          actual: expect.stringMatching(/^store\/base: a plain directory \(inode \d+, not 256\)$/) as unknown as string,
          hint: 'rmdir store/base (a plain folder, not a subvolume), then btrfs subvolume create store/base',
        },
      ]);
      // The seed's own name: a valid subvolume elsewhere in the store is named, with the way to move it.
      await ws.shell('btrfs', 'rmdir store/base; btrfs subvolume create store/arch-base');
      expect(await failingRows()).toEqual([
        {
          check: 'store/base is a btrfs subvolume (inode 256)',
          expected: 'a subvolume',
          actual: 'store/base: nothing there; the store has the subvolume store/arch-base',
          hint: 'This step wants it at store/base (a renamed subvolume stays a subvolume): mv store/arch-base store/base',
        },
      ]);
      expect((await typed('mv store/arch-base store/base')).code).toBe(0);
      expect((await typed('mkdir -p store/base/{bin,sbin,usr/bin,usr/sbin}; cp /bin/busybox store/base/bin/; chroot store/base /bin/busybox --install -s')).code).toBe(0);
      expect((await typed("systemd-nspawn -q -D store/base --register=no --keep-unit /bin/sh -c \"echo $WORKSHOP_NONCE > /ran.txt\"")).code).toBe(0);
      // A writable snapshot first, made read-only afterwards: the state is the same.
      expect((await typed('btrfs subvolume snapshot store/base store/base-snapshot; btrfs property set -ts store/base-snapshot ro true')).code).toBe(0);
      // The container layer: a read-only snapshot is rejected with how to make it writable.
      await ws.shell('btrfs', 'btrfs subvolume snapshot -r store/base-snapshot store/container');
      expect((await failingRows()).map((r) => r.actual)).toContain('ro=true: the snapshot is read-only, so the container cannot write to it');
      expect((await typed("btrfs property set -ts store/container ro false; systemd-nspawn -q -D store/container --register=no --keep-unit /bin/sh -c \"echo $WORKSHOP_NONCE > /hello.txt\"")).code).toBe(0);
      expect((await typed('btrfs send store/base-snapshot -f base-img; mkdir -p store/received; btrfs receive -f base-img store/received')).code).toBe(0);
    });

    it('rejects a full stream where an incremental one is expected, then accepts send -p', async () => {
      await ws.shell('btrfs', 'mkdir -p store/base/etc; echo "version 2" > store/base/etc/version; btrfs subvolume snapshot -r store/base store/base-snapshot2; btrfs send store/base-snapshot2 -f base-inc; btrfs receive -f base-inc store/received');
      const full = await ws.cli(['next']);
      expect(full.code).toBe(1);
      expect(full.stdout + full.stderr).toContain('it repeats every file');
      const inc = await typed('btrfs subvolume delete store/received/base-snapshot2; btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc; btrfs receive -f base-inc store/received');
      expect(inc.code).toBe(0);
    });

    it('accepts Container the Hard Way\'s partitioned disk: fdisk, mkfs.btrfs on /dev/loopNp1, mounted from the partition', async () => {
      const cthw = await openWorkshop('/tmp/ws-fs3-cthw-', { cli: cli() });
      try {
        expect((await cthw.cli(['goto', 'btrfs/image'])).code).toBe(0);
        // CTHW docs/01: fdisk, then mkfs.btrfs on the partition of a loop device with partition scanning (-P).
        const made = await cthw.shell('btrfs', [
          ...PARTITIONED_STORE_IMG,
          'mkfs.btrfs -q -f ${L}p1 && mkdir -p store && mount ${L}p1 store',
          'echo $L',
        ].join('\n'));
        expect(made.code).toBe(0);
        const loop = made.stdout.trim().split('\n').at(-1) ?? '';
        const image = await cthw.cli(['--json', 'next']);
        expect(JSON.parse(image.stdout)).toMatchObject({ step: 'btrfs/image', passed: true });
        const mount = JSON.parse((await cthw.cli(['--json', 'next'])).stdout) as { step: string; passed: boolean; results: Array<{ actual: string }> };
        expect(mount).toMatchObject({ step: 'btrfs/mount', passed: true });
        expect(mount.results[0]?.actual).toBe(`btrfs from ${loop}p1, a partition of ${loop} (backed by store.img)`);
      } finally {
        await cthw.dispose();
        for (const l of parseLosetupJson(await runOk('losetup', ['-J', '-l'])).filter((x) => x.backFile?.startsWith(cthw.home))) await runOk('losetup', ['-d', l.name]).catch(() => '');
      }
    });

    it('`workshop clean` unmounts the store and detaches its loop device', async () => {
      await ws.shell('btrfs', 'mkdir -p store/base/proc; mount -t proc proc store/base/proc');
      expect((await ws.cli(['clean'])).code).toBe(0);
      expect(mountsUnder(await readMountinfo(), dir)).toEqual([]);
      expect(parseLosetupJson(await runOk('losetup', ['-J', '-l'])).filter((l) => l.backFile?.startsWith(dir))).toEqual([]);
    });
  });
});
