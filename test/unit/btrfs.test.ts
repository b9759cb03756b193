// btrfs parsers and judges on output recorded with btrfs-progs 6.2 (test/fixtures/btrfs/, see README).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  judgeLoopMount, mountCommand, judgeMuchSmaller, judgeReceivedFrom, judgeSendStream, judgeSnapshotOf, judgeSparse, loopOfPartition, otherSubvolumes, parseMbrPartitions, parsePropertyRo,
  parseSendStreamHead, parseSubvolumeList, parseSubvolumeShow, snapshotElsewhere, subvolumeHint,
} from '../../src/checks/btrfs.ts';
import { parseLosetupJson } from '../../src/checks/loop.ts';
import { parseMountinfo } from '../../src/checks/mounts.ts';

const text = (name: string): string => readFileSync(new URL(`../fixtures/btrfs/${name}`, import.meta.url), 'utf8');
const bytes = (name: string): Buffer => readFileSync(new URL(`../fixtures/btrfs/${name}`, import.meta.url));

const base = parseSubvolumeShow(text('show-base.txt'));
const snap = parseSubvolumeShow(text('show-snapshot-ro.txt'));
const received = parseSubvolumeShow(text('show-received.txt'));
const receivedInc = parseSubvolumeShow(text('show-received-inc.txt'));
const snap2 = parseSubvolumeShow(text('show-snapshot2.txt'));

describe('parseSubvolumeShow', () => {
  it('reads a fresh subvolume: no parent, writable, one snapshot', () => {
    expect(base).toEqual({
      name: 'base',
      uuid: '36b90854-9488-8947-9de4-656830fa506f',
      parentUuid: null,
      receivedUuid: null,
      id: 256,
      readOnly: false,
      snapshots: ['base-snapshot'],
    });
  });

  it('reads a read-only snapshot: its Parent UUID is the source', () => {
    expect(snap).toMatchObject({ name: 'base-snapshot', parentUuid: base.uuid, readOnly: true, receivedUuid: null, id: 257 });
  });

  it('reads a received subvolume: its Received UUID is the sent snapshot', () => {
    expect(received).toMatchObject({ name: 'base-snapshot', receivedUuid: snap.uuid, parentUuid: null, readOnly: true });
  });

  it("ends the snapshot list at the next field: btrfs-progs 6.14 (Debian 13) prints 'Quota group' after it", () => {
    expect(parseSubvolumeShow(text('show-snapshot-ro-6.14.txt'))).toMatchObject({ name: 'base-snapshot', readOnly: true, id: 257, snapshots: ['run/littlebox'] });
  });

  it('throws on output that is not subvolume show', () => {
    expect(() => parseSubvolumeShow('ERROR: Not a Btrfs subvolume: Invalid argument\n')).toThrow(/no Name or Subvolume ID/);
  });
});

describe('parsePropertyRo and parseSubvolumeList', () => {
  it('reads ro=true and ro=false', () => {
    expect(parsePropertyRo(text('property-ro-true.txt'))).toBe(true);
    expect(parsePropertyRo(text('property-ro-false.txt'))).toBe(false);
    expect(() => parsePropertyRo('ERROR: Could not get subvolume flags')).toThrow(/unexpected output/);
  });

  it('lists subvolumes with their paths (no <FS_TREE>/ prefix in 6.2)', () => {
    expect(parseSubvolumeList(text('list.txt'))).toEqual([
      { id: 256, path: 'base' },
      { id: 257, path: 'base-snapshot' },
      { id: 258, path: 'received/base-snapshot' },
      { id: 259, path: 'base-snapshot2' },
      { id: 260, path: 'received/base-snapshot2' },
    ]);
  });
});

describe('send streams', () => {
  it('reads a full stream: a SUBVOL command naming the snapshot and its UUID', () => {
    expect(parseSendStreamHead(bytes('send-full-head.bin'))).toEqual({ kind: 'full', version: 1, path: 'base-snapshot', uuid: snap.uuid });
  });

  it('reads an incremental stream: a SNAPSHOT command with the parent as clone UUID', () => {
    expect(parseSendStreamHead(bytes('send-inc-head.bin'))).toEqual({
      kind: 'incremental',
      version: 1,
      path: 'base-snapshot2',
      uuid: snap2.uuid,
      parentUuid: snap.uuid,
    });
  });

  it('tells a tar file from a stream', () => {
    expect(parseSendStreamHead(Buffer.from('./\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'))).toMatchObject({ kind: 'not-a-stream' });
  });

  it('accepts a full stream of the snapshot and rejects one of another snapshot', () => {
    const full = parseSendStreamHead(bytes('send-full-head.bin'));
    expect(judgeSendStream(full, 'base-img', snap).ok).toBe(true);
    expect(judgeSendStream(full, 'base-img', base)).toMatchObject({ ok: false, actual: `a stream of base-snapshot (${snap.uuid ?? ''})` });
  });

  it('rejects a full stream where an incremental one is expected', () => {
    const full = parseSendStreamHead(bytes('send-full-head.bin'));
    expect(judgeSendStream(full, 'base-inc', snap, base)).toMatchObject({ ok: false, actual: 'a full stream of base-snapshot: it repeats every file' });
    // the hint names the subvolumes as the learner's shell reaches them, from the chapter folder (issue 21 item 7)
    expect(judgeSendStream(full, 'base-inc', snap, base, { snap: 'store/base-snapshot2', parent: 'store/base-snapshot' })).toMatchObject({ hint: 'btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc' });
  });

  it('accepts the incremental stream from the first snapshot to the second', () => {
    const inc = parseSendStreamHead(bytes('send-inc-head.bin'));
    expect(judgeSendStream(inc, 'base-inc', snap2, snap).ok).toBe(true);
    expect(judgeSendStream(inc, 'base-inc', snap2, base)).toMatchObject({ ok: false });
  });

  it('wants the incremental stream much smaller than the full one (recorded: 467 against 2042267 bytes)', () => {
    expect(judgeMuchSmaller(467, 2042267, 10, { small: 'base-inc', big: 'base-img' }).ok).toBe(true);
    expect(judgeMuchSmaller(2042526, 2042526, 10, { small: 'base-inc', big: 'base-img' }).ok).toBe(false);
  });
});

describe('snapshot and receive judges', () => {
  it('accepts a snapshot of base, and rejects a new subvolume or a snapshot of another source', () => {
    expect(judgeSnapshotOf(snap, base, { snap: 'store/base-snapshot', source: 'store/base' }).ok).toBe(true);
    expect(judgeSnapshotOf(base, snap, { snap: 'store/base', source: 'store/base-snapshot' })).toMatchObject({ ok: false, actual: 'store/base has no Parent UUID: it is a new subvolume, not a snapshot' });
    expect(judgeSnapshotOf(receivedInc, base, { snap: 'x', source: 'store/base' })).toMatchObject({ ok: false, actual: `Parent UUID ${receivedInc.parentUuid ?? ''}: a snapshot of another subvolume` });
  });

  it('accepts the received copy of the snapshot and rejects a plain snapshot', () => {
    expect(judgeReceivedFrom(received, snap, { received: 'r', sent: 's' }).ok).toBe(true);
    expect(judgeReceivedFrom(snap, snap, { received: 'r', sent: 's' })).toMatchObject({ ok: false, actual: 'r has no Received UUID: it was not made by btrfs receive' });
  });

  it('sees the incremental copy on top of the first received copy', () => {
    expect(receivedInc.parentUuid).toBe(received.uuid);
    expect(receivedInc.receivedUuid).toBe(snap2.uuid);
    expect(snap2.parentUuid).toBe(base.uuid);
  });
});

describe('the image and its loop mount', () => {
  it('wants a sparse file of at least 1 GiB', () => {
    expect(judgeSparse('store.img', 2 ** 30, 6 * 2 ** 20, 2 ** 30).ok).toBe(true);
    expect(judgeSparse('store.img', 200 * 2 ** 20, 6 * 2 ** 20, 2 ** 30, { for: 'a store', then: 'mkfs.btrfs -f store.img' })).toMatchObject({ ok: false, actual: 'store.img is 200.0 MiB (209715200 bytes): too small for a store', hint: 'truncate -s 1G store.img, then mkfs.btrfs -f store.img again' });
    // any other file system: the rows name the size wanted, and no btrfs
    expect(judgeSparse('disk.img', 16 * 2 ** 20, 2 ** 20, 64 * 2 ** 20)).toMatchObject({ ok: false, expected: 'a sparse file of at least 64.0 MiB', actual: 'disk.img is 16.0 MiB (16777216 bytes): smaller than 64.0 MiB', hint: 'truncate -s 64M disk.img (and make its file system again: a larger file does not grow it)' });
    expect(judgeSparse('store.img', 2 ** 30, 2 ** 30, 2 ** 30)).toMatchObject({ ok: false, actual: 'store.img takes all of its 1.00 GiB on disk: it is not sparse' });
  });

  const loops = parseLosetupJson(text('losetup-store.json'));
  const line = (at: string, fs = 'btrfs', src = '/dev/loop0') => `44 27 0:39 / ${at} rw,relatime - ${fs} ${src} rw,discard=async,space_cache=v2,subvolid=5,subvol=/`;

  it('accepts btrfs from the loop device backed by store.img (recorded losetup -J)', () => {
    expect(judgeLoopMount(parseMountinfo(line('/tmp/ws-fs3-rec/store')), loops, '/tmp/ws-fs3-rec/store', '/tmp/ws-fs3-rec/store.img')).toEqual({ ok: true, actual: 'btrfs from /dev/loop0 (backed by /tmp/ws-fs3-rec/store.img)' });
  });

  it('says where the image is mounted when it is mounted elsewhere', () => {
    expect(judgeLoopMount(parseMountinfo(line('/tmp/ws-fs3-rec/other')), loops, '/tmp/ws-fs3-rec/store', '/tmp/ws-fs3-rec/store.img')).toMatchObject({
      ok: false,
      actual: '/tmp/ws-fs3-rec/store.img is already mounted elsewhere: /tmp/ws-fs3-rec/other (/dev/loop0)',
    });
  });

  it('rejects a tmpfs at store and a btrfs from another image', () => {
    expect(judgeLoopMount(parseMountinfo(line('/tmp/ws-fs3-rec/store', 'tmpfs', 'ws-tmpfs')), [], '/tmp/ws-fs3-rec/store', '/tmp/ws-fs3-rec/store.img')).toMatchObject({ ok: false, actual: 'tmpfs is mounted there' });
    expect(judgeLoopMount(parseMountinfo(line('/tmp/ws-fs3-rec/store')), loops, '/tmp/ws-fs3-rec/store', '/tmp/ws-fs3-rec/other.img')).toMatchObject({ ok: false, actual: 'btrfs from /dev/loop0, backed by /tmp/ws-fs3-rec/store.img' });
  });
});

describe('a store on a partition of a loop device, or mounted twice (recorded)', () => {
  // CTHW: fdisk on the image, then mkfs.btrfs /dev/loop0p1 (losetup -P; partx -a made the node here).
  const partition = { entries: parseMountinfo(text('mountinfo-loop-partition.txt')), loops: parseLosetupJson(text('losetup-loop-partition.json')) };
  const twice = { entries: parseMountinfo(text('mountinfo-store-twice.txt')), loops: parseLosetupJson(text('losetup-store-twice.json')) };

  it('maps a partition to its loop device', () => {
    expect(loopOfPartition('/dev/loop0p1')).toBe('/dev/loop0');
    expect(loopOfPartition('/dev/loop12p3')).toBe('/dev/loop12');
    expect(loopOfPartition('/dev/loop0')).toBeNull();
    expect(loopOfPartition('/dev/sda1')).toBeNull();
  });

  it('accepts btrfs on /dev/loop0p1 when loop0 is backed by store.img', () => {
    expect(judgeLoopMount(partition.entries, partition.loops, '/tmp/ws-h15p/store', '/tmp/ws-h15p/store.img')).toEqual({
      ok: true,
      actual: 'btrfs from /dev/loop0p1, a partition of /dev/loop0 (backed by /tmp/ws-h15p/store.img)',
    });
  });

  it('rejects a partition of a loop device backed by another file, naming both', () => {
    expect(judgeLoopMount(partition.entries, partition.loops, '/tmp/ws-h15p/store', '/tmp/ws-h15p/other.img')).toMatchObject({
      ok: false,
      actual: 'btrfs from /dev/loop0p1, a partition of /dev/loop0, backed by /tmp/ws-h15p/store.img',
    });
  });

  it('rejects the image mounted at store and also at mnt, and says what to unmount', () => {
    expect(judgeLoopMount(twice.entries, twice.loops, '/tmp/ws-h15p/store', '/tmp/ws-h15p/store.img')).toEqual({
      ok: false,
      expected: '/tmp/ws-h15p/store.img mounted only at /tmp/ws-h15p/store',
      actual: 'it is also mounted at /tmp/ws-h15p/mnt (/dev/loop0)',
      hint: 'Mount the image only once: umount /tmp/ws-h15p/mnt',
    });
  });

  // Issue 25: the hint said `mount -o loop store.img store`, which fails on a partitioned image
  // ("wrong fs type, bad option, bad superblock on /dev/loop1", rc 32).
  it('gives the partition to mount when the partitioned image is mounted elsewhere (CTHW: /var/lib/containers)', () => {
    const moved = partition.entries.map((e) => (e.mountPoint === '/tmp/ws-h15p/store' ? { ...e, mountPoint: '/var/lib/containers' } : e));
    const layout = { btrfs: 'partition' as const, partition: 1, partitionDevices: ['/dev/loop0p1'] };
    expect(judgeLoopMount(moved, partition.loops, '/tmp/ws-h15p/store', '/tmp/ws-h15p/store.img', '/tmp/ws-h15p', layout)).toEqual({
      ok: false,
      expected: 'btrfs at store on a loop device backed by store.img',
      actual: 'store.img is already mounted elsewhere: /var/lib/containers (/dev/loop0p1)',
      hint: 'umount /var/lib/containers, then mkdir -p store; mount /dev/loop0p1 store',
    });
  });

  it('mounts a partitioned image by its partition, and attaches it with -P first when no loop device has it', () => {
    const partitioned = { btrfs: 'partition' as const, partition: 1, partitionDevices: [] };
    expect(mountCommand('store', 'store.img', { btrfs: 'whole', partitionDevices: [] })).toBe('mount -o loop store.img store');
    expect(mountCommand('store', 'store.img', { ...partitioned, partitionDevices: ['/dev/loop3p1'] })).toBe('mount /dev/loop3p1 store');
    expect(mountCommand('store', 'store.img', partitioned)).toBe('losetup -fP --show store.img (it prints /dev/loopN), then mount /dev/loopNp1 store');
    expect(mountCommand('store', 'store.img', partitioned, '/dev/loop2p1')).toBe('mount /dev/loop2p1 store');
    expect(judgeLoopMount([], partition.loops, '/tmp/ws-h15p/store', '/tmp/ws-h15p/store.img', '/tmp/ws-h15p', { ...partitioned, partitionDevices: ['/dev/loop0p1'] })).toMatchObject({ ok: false, hint: 'mkdir -p store; mount /dev/loop0p1 store' });
  });

  it('does not count a bind mount of a folder of the store as a second mount', () => {
    const bind = twice.entries.map((e) => (e.mountPoint === '/tmp/ws-h15p/mnt' ? { ...e, root: '/container' } : e));
    expect(judgeLoopMount(bind, twice.loops, '/tmp/ws-h15p/store', '/tmp/ws-h15p/store.img').ok).toBe(true);
  });
});

describe("the container layer under the tutorial's name", () => {
  // Issue 25: Container the Hard Way's layer is run/littlebox; the hint offered a fresh snapshot.
  const base = parseSubvolumeShow(text('show-base.txt'));
  it('offers the mv of a snapshot of the image that lies elsewhere, not of the chapter\'s own snapshots', () => {
    const withLayer = { ...base, snapshots: ['base-snapshot', 'run/littlebox'] };
    expect(snapshotElsewhere([{ source: 'store/base', info: withLayer }], 'store', 'store/container', ['store/base-snapshot'])).toEqual({
      actual: 'store/container: nothing there; the store has store/run/littlebox, a snapshot of store/base',
      hint: 'This step wants it at store/container (a renamed subvolume stays a subvolume): mv store/run/littlebox store/container',
    });
    expect(snapshotElsewhere([{ source: 'store/base', info: base }], 'store', 'store/container', ['store/base-snapshot'])).toBeNull();
  });
});

describe('hints for a path that is not a subvolume yet', () => {
  it('removes a plain folder first: rmdir when empty, rm -r when not', () => {
    expect(subvolumeHint('store/base', 'a plain directory (inode 257, not 256)', 'btrfs subvolume create store/base', true)).toBe('rmdir store/base (a plain folder, not a subvolume), then btrfs subvolume create store/base');
    expect(subvolumeHint('store/base', 'a plain directory (inode 257, not 256)', 'btrfs subvolume create store/base', false)).toBe('rm -r store/base (a plain folder, not a subvolume), then btrfs subvolume create store/base');
  });

  it('gives the step\'s own command when nothing is there: a snapshot, not a create', () => {
    expect(subvolumeHint('store/base-snapshot', 'nothing there', 'btrfs subvolume snapshot -r store/base store/base-snapshot', false)).toBe('btrfs subvolume snapshot -r store/base store/base-snapshot');
  });

  it('names a valid subvolume found elsewhere in the store (btrfs subvolume list, recorded format)', () => {
    const list = parseSubvolumeList('ID 256 gen 8 top level 5 path arch-base\n');
    expect(otherSubvolumes(list, 'store', 'store/base')).toEqual({
      actual: 'store/base: nothing there; the store has the subvolume store/arch-base',
      hint: 'This step wants it at store/base (a renamed subvolume stays a subvolume): mv store/arch-base store/base',
    });
    expect(otherSubvolumes([], 'store', 'store/base')).toBeNull();
  });
});

describe('a partitioned store image (CTHW runs fdisk first)', () => {
  it('reads the one partition fdisk made: from sector 2048 to the end of the 1 GiB image (recorded MBR)', () => {
    expect(parseMbrPartitions(bytes('mbr-one-partition.bin'))).toEqual([{ index: 1, start: 2048 * 512, size: 2095104 * 512 }]);
  });

  it('finds no partitions without the 0x55AA signature (a btrfs image starts with zeros)', () => {
    expect(parseMbrPartitions(Buffer.alloc(512))).toEqual([]);
  });
});
