// Chapter 04 (btrfs) on the real kernel: the self-test through the built CLI, the lvm chapter's
// skip on this machine, and a learner typing the seed's commands and the valid alternatives.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOk } from '../../src/checks/exec.ts';
import { parseLosetupJson } from '../../src/checks/loop.ts';
import { mountsUnder, readMountinfo } from '../../src/checks/mounts.ts';
import { buildCli, failedPhases, openWorkshop, selfTest, type Workshop, isRoot } from '../helpers/workshop.ts';


describe.skipIf(!isRoot)('chapter btrfs', () => {
  let built: Awaited<ReturnType<typeof buildCli>>;
  beforeAll(async () => {
    built = await buildCli();
  });
  afterAll(async () => built.dispose());

  it('passes every phase of `workshop test` and leaves no residue; lvm is skipped with the device-mapper reason', async () => {
    const { report } = await selfTest('/tmp/ws-fs3-it-', ['btrfs', 'lvm'], { cli: built.cliJs });
    expect(failedPhases(report)).toEqual([]);
    expect(report.chapters.map((c) => [c.id, c.status, c.residue])).toEqual([
      ['btrfs', 'pass', []],
      ['lvm', 'skipped', []],
    ]);
    expect(report.chapters[1]?.reason).toMatch(/^no device-mapper: dmsetup targets failed/);
  });

  describe('a learner working through the chapter', () => {
    let ws: Workshop;
    let dir = '';
    beforeAll(async () => {
      ws = await openWorkshop('/tmp/ws-fs3-learner-', { cli: built.cliJs });
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

    it('accepts the seed\'s commands, with busybox for pacstrap and property set ro true for snapshot -r', async () => {
      expect((await typed('rm store.img; truncate -s 1G store.img; mkfs.btrfs -f store.img')).code).toBe(0);
      expect((await typed('mkdir -p store; mount -o loop store.img store')).code).toBe(0);
      expect((await typed('btrfs subvolume create store/base')).code).toBe(0);
      expect((await typed('mkdir -p store/base/{bin,sbin,usr/bin,usr/sbin}; cp /bin/busybox store/base/bin/; chroot store/base /bin/busybox --install -s')).code).toBe(0);
      expect((await typed("systemd-nspawn -q -D store/base --register=no --keep-unit /bin/sh -c \"echo $WORKSHOP_NONCE > /ran.txt\"")).code).toBe(0);
      // A writable snapshot first, made read-only afterwards: the state is the same.
      expect((await typed('btrfs subvolume snapshot store/base store/base-snapshot; btrfs property set -ts store/base-snapshot ro true')).code).toBe(0);
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

    it('`workshop clean` unmounts the store and detaches its loop device', async () => {
      await ws.shell('btrfs', 'mkdir -p store/base/proc; mount -t proc proc store/base/proc');
      expect((await ws.cli(['clean'])).code).toBe(0);
      expect(mountsUnder(await readMountinfo(), dir)).toEqual([]);
      expect(parseLosetupJson(await runOk('losetup', ['-J', '-l'])).filter((l) => l.backFile?.startsWith(dir))).toEqual([]);
    });
  });
});
