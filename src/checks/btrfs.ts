// btrfs checks. A subvolume's root directory is always inode 256; everything else about it comes
// from `btrfs subvolume show` and `btrfs property get`, whose text we parse: btrfs-progs 6.2 has
// no JSON for them ("output format json is unsupported"). Fixtures: test/fixtures/btrfs/.
import { open, readdir, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { readLoopDevices, type LoopDevice } from './loop.ts';
// Re-exported for chapters: a loop device's backing file is how a store image is found.
import type { Check, CheckContext, Verdict } from './check.ts';
import { defineCheck, fail, pass } from './check.ts';
import { runOk } from '../sys/exec.ts';
import { describeMountsAt, mountsAt, readMountinfo, type MountEntry } from './mounts.ts';

/**
 * btrfs-progs calls are fast (100-200 ms for a step's checks, also in the qemu guest), but a check
 * of btrfs/snapshot once waited more than 10 s there, under TCG while the as-written run was busy.
 * Checks that call btrfs-progs get 30 s, each call 25 s, so that a slow machine is not a failure.
 */
const BTRFS_PROGS_MS = 25_000;
const BTRFS_CHECK = { timeoutMs: 30_000 };

/** The inode number of every subvolume's top directory (BTRFS_FIRST_FREE_OBJECTID). */
export const SUBVOLUME_ROOT_INODE = 256;
/** statfs f_type of btrfs (BTRFS_SUPER_MAGIC). */
export const BTRFS_SUPER_MAGIC = 0x9123683e;

export interface SubvolumeInfo {
  name: string;
  /** null where btrfs prints `-` */
  uuid: string | null;
  /** the UUID of the subvolume this one is a snapshot of */
  parentUuid: string | null;
  /** the UUID of the sent snapshot this one was received from */
  receivedUuid: string | null;
  id: number;
  readOnly: boolean;
  /** paths relative to the file system's top level */
  snapshots: string[];
}

const dash = (v: string | undefined): string | null => (v === undefined || v === '-' || v === '' ? null : v);

/** Parses `btrfs subvolume show PATH`: a path line, then `Key: value` lines, then the snapshot list. Pure. */
export function parseSubvolumeShow(text: string): SubvolumeInfo {
  const fields = new Map<string, string>();
  const snapshots: string[] = [];
  let inSnapshots = false;
  for (const line of text.split('\n').slice(1)) {
    if (line.trim() === '') continue;
    // Snapshots are indented deeper than the fields; btrfs-progs 6.14 prints `Quota group:` after them.
    if (inSnapshots && /^\t\t/.test(line)) {
      snapshots.push(line.trim());
      continue;
    }
    inSnapshots = false;
    const m = /^\t([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === undefined) continue;
    if (m[1] === 'Snapshot(s)') inSnapshots = true;
    else fields.set(m[1], (m[2] ?? '').trim());
  }
  const name = fields.get('Name');
  const id = fields.get('Subvolume ID');
  if (name === undefined || id === undefined || !/^\d+$/.test(id)) throw new Error('btrfs subvolume show: no Name or Subvolume ID in its output');
  return {
    name,
    uuid: dash(fields.get('UUID')),
    parentUuid: dash(fields.get('Parent UUID')),
    receivedUuid: dash(fields.get('Received UUID')),
    id: Number(id),
    readOnly: (fields.get('Flags') ?? '').split(/[\s,]+/).includes('readonly'),
    snapshots,
  };
}

/** Parses `btrfs property get -ts PATH ro`: `ro=true` or `ro=false`. Pure. */
export function parsePropertyRo(text: string): boolean {
  const m = /^ro=(true|false)$/m.exec(text);
  if (!m) throw new Error(`btrfs property get ro: unexpected output ${JSON.stringify(text.trim())}`);
  return m[1] === 'true';
}

export interface SubvolumeListEntry {
  id: number;
  path: string;
}

/** Parses `btrfs subvolume list MOUNT`: `ID 256 gen 10 top level 5 path base`. Pure. */
export function parseSubvolumeList(text: string): SubvolumeListEntry[] {
  return text.split('\n').flatMap((line) => {
    const m = /^ID (\d+) gen \d+ top level \d+ path (.+)$/.exec(line);
    return m && m[1] !== undefined && m[2] !== undefined ? [{ id: Number(m[1]), path: m[2] }] : [];
  });
}

// The send stream (linux/fs/btrfs/send.h): "btrfs-stream\0", a u32 version, then commands, each
// a header (u32 length, u16 command, u32 crc) and TLV attributes (u16 type, u16 length, value),
// all little-endian. A full stream starts with SUBVOL, an incremental one with SNAPSHOT, which
// also names the parent it applies on (CLONE_UUID). Recorded in test/fixtures/btrfs/send-*.bin.
const STREAM_MAGIC = 'btrfs-stream\0';
const CMD_SUBVOL = 1;
const CMD_SNAPSHOT = 2;
const A_UUID = 1;
const A_PATH = 15;
const A_CLONE_UUID = 20;

export type SendStream =
  | { kind: 'not-a-stream'; head: string }
  | { kind: 'full'; version: number; path: string; uuid: string }
  | { kind: 'incremental'; version: number; path: string; uuid: string; parentUuid: string };

const uuidOf = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** Reads the first command of a send stream from its first bytes (64 are enough). Pure. */
export function parseSendStreamHead(buf: Buffer): SendStream {
  const notStream = (): SendStream => ({ kind: 'not-a-stream', head: JSON.stringify(buf.subarray(0, 16).toString('latin1')) });
  if (buf.length < 27 || buf.subarray(0, 13).toString('latin1') !== STREAM_MAGIC) return notStream();
  const version = buf.readUInt32LE(13);
  const len = buf.readUInt32LE(17);
  const cmd = buf.readUInt16LE(21);
  const attrs = new Map<number, Buffer>();
  const end = Math.min(buf.length, 27 + len);
  for (let off = 27; off + 4 <= end; ) {
    const type = buf.readUInt16LE(off);
    const size = buf.readUInt16LE(off + 2);
    if (off + 4 + size > end) break;
    attrs.set(type, buf.subarray(off + 4, off + 4 + size));
    off += 4 + size;
  }
  const path = attrs.get(A_PATH)?.toString('utf8') ?? '';
  const uuid = attrs.get(A_UUID);
  if (uuid === undefined || uuid.length !== 16) return notStream();
  if (cmd === CMD_SUBVOL) return { kind: 'full', version, path, uuid: uuidOf(uuid) };
  const clone = attrs.get(A_CLONE_UUID);
  if (cmd === CMD_SNAPSHOT && clone !== undefined && clone.length === 16) return { kind: 'incremental', version, path, uuid: uuidOf(uuid), parentUuid: uuidOf(clone) };
  return notStream();
}

// --- probes -----------------------------------------------------------------------------------

const abs = (ctx: CheckContext, p: string): string => resolve(ctx.dir, p);
const missing = (err: unknown): boolean => err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');

export async function showSubvolume(path: string): Promise<SubvolumeInfo> {
  return parseSubvolumeShow(await runOk('btrfs', ['subvolume', 'show', path], { timeoutMs: BTRFS_PROGS_MS }));
}

/** Why `path` is not a subvolume, or null when it is one. */
export async function whyNotSubvolume(path: string): Promise<string | null> {
  const st = await stat(path).catch((err: unknown) => (missing(err) ? null : Promise.reject(err)));
  if (st === null) return 'nothing there';
  if (!st.isDirectory()) return 'not a directory';
  if ((await statfs(path)).type !== BTRFS_SUPER_MAGIC) return 'a directory that is not on btrfs';
  return st.ino === SUBVOLUME_ROOT_INODE ? null : `a plain directory (inode ${st.ino}, not ${SUBVOLUME_ROOT_INODE})`;
}

/** The first command of a send stream at `path` (its first 256 bytes), or null when there is no such file. */
export const readSendStream = async (path: string): Promise<SendStream | null> => {
  const fh = await open(path, 'r').catch((err: unknown) => (missing(err) ? null : Promise.reject(err)));
  if (fh === null) return null;
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    return parseSendStreamHead(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
};

// --- checks -----------------------------------------------------------------------------------

/** What a sparse image is for, in `sparseImage`'s rows: the btrfs chapter's store says so. */
export interface SparseImageOptions {
  /** what the image is, in "too small for …" (default: the rows say only the size wanted) */
  for?: string;
  /** the command that makes the file system again once the size is right, for the hint (default: a sentence saying so) */
  then?: string;
}

const GIB = 2 ** 30;
const MIB = 2 ** 20;
/** 1.00 GiB, 64.0 MiB: a size in the rows */
const shownSize = (n: number): string => (n >= GIB ? `${(n / GIB).toFixed(2)} GiB` : `${(n / MIB).toFixed(1)} MiB`);
/** 1G, 64M, 1000: a size as truncate -s takes it */
const truncateSize = (n: number): string => (n % GIB === 0 ? `${n / GIB}G` : n % MIB === 0 ? `${n / MIB}M` : String(n));
/** 1 GiB, 64 MiB: a size in the check's name */
const namedSize = (n: number): string => (n % GIB === 0 ? `${n / GIB} GiB` : n % MIB === 0 ? `${n / MIB} MiB` : `${n} bytes`);

/** Pure decision of `sparseImage`: `allocated` is st_blocks × 512. */
export function judgeSparse(file: string, size: number, allocated: number, minBytes: number, o: SparseImageOptions = {}): Verdict {
  const expected = `a sparse file of at least ${shownSize(minBytes)}`;
  if (size < minBytes) {
    const again = o.then === undefined ? ' (and make its file system again: a larger file does not grow it)' : `, then ${o.then} again`;
    return fail(expected, `${file} is ${shownSize(size)} (${size} bytes): ${o.for === undefined ? `smaller than ${shownSize(minBytes)}` : `too small for ${o.for}`}`, `truncate -s ${truncateSize(minBytes)} ${file}${again}`);
  }
  if (allocated >= size) return fail(expected, `${file} takes all of its ${shownSize(size)} on disk: it is not sparse`, 'Make it with truncate -s, not dd or fallocate.');
  return pass(`${shownSize(size)} apparent, ${(allocated / MIB).toFixed(1)} MiB on disk`);
}

/**
 * `p` is a sparse file (apparent size larger than what is allocated) of at least `minBytes`: an
 * image for any file system. `o.for` and `o.then` word the rows for what it holds (the btrfs
 * chapter: `{ for: 'a store', then: 'mkfs.btrfs -f store.img' }`).
 */
export const sparseImage = (p: string, minBytes: number, o: SparseImageOptions = {}): Check =>
  defineCheck(`${p} is a sparse file of at least ${namedSize(minBytes)}`, async (ctx) => {
    const st = await stat(abs(ctx, p)).catch((err: unknown) => (missing(err) ? null : Promise.reject(err)));
    // the absolute path that was probed: a learner in another folder sees where it was looked for
    if (st === null) return fail('a sparse image file', `${abs(ctx, p)}: nothing there`, `truncate -s ${truncateSize(minBytes)} ${p}`);
    return judgeSparse(p, st.size, st.blocks * 512, minBytes, o);
  });

/** The btrfs superblock lives at 64 KiB; its magic `_BHRfS_M` is 64 bytes into it. */
export const BTRFS_MAGIC_OFFSET = 0x10040;

/** The file (an image, a device) starts with a btrfs superblock: its magic `_BHRfS_M` at 64 KiB + 64 bytes. */
/**
 * The partitions of a DOS (MBR) partition table in the first 512 bytes: start and size in bytes.
 * Container the Hard Way partitions its disk with fdisk first, so its btrfs starts at the first
 * partition (sector 2048 by default, recorded in test/fixtures/btrfs/mbr-one-partition.bin). Pure.
 */
export function parseMbrPartitions(sector0: Buffer): Array<{ index: number; start: number; size: number }> {
  if (sector0.length < 512 || sector0.readUInt16LE(510) !== 0xaa55) return [];
  const parts = [];
  for (let i = 0; i < 4; i++) {
    const e = 446 + 16 * i;
    const type = sector0[e + 4] ?? 0;
    const startLba = sector0.readUInt32LE(e + 8);
    const sectors = sector0.readUInt32LE(e + 12);
    // 0xee is GPT's protective entry: its partitions are elsewhere, not read here.
    if (type !== 0 && type !== 0xee && sectors > 0) parts.push({ index: i + 1, start: startLba * 512, size: sectors * 512 });
  }
  return parts;
}

/** Where a file holds its btrfs: the whole file, a partition of its MBR (after fdisk), or none (with what is at the magic's place). */
export type BtrfsPlace = { in: 'whole' } | { in: 'partition'; index: number; start: number } | { in: 'none'; magic: string };

/** Reads where the file at `p` holds a btrfs; null when there is no such file. */
export async function btrfsPlace(p: string): Promise<BtrfsPlace | null> {
  const fh = await open(p, 'r').catch((err: unknown) => (missing(err) ? null : Promise.reject(err)));
  if (fh === null) return null;
  try {
    const magicAt = async (offset: number): Promise<string> => {
      const buf = Buffer.alloc(8);
      const { bytesRead } = await fh.read(buf, 0, 8, offset);
      return buf.subarray(0, bytesRead).toString('latin1');
    };
    const magic = await magicAt(BTRFS_MAGIC_OFFSET);
    if (magic === '_BHRfS_M') return { in: 'whole' };
    const sector0 = Buffer.alloc(512);
    await fh.read(sector0, 0, 512, 0);
    for (const part of parseMbrPartitions(sector0)) {
      if ((await magicAt(part.start + BTRFS_MAGIC_OFFSET)) === '_BHRfS_M') return { in: 'partition', index: part.index, start: part.start };
    }
    return { in: 'none', magic };
  } finally {
    await fh.close();
  }
}

/** The file (an image, a device, a partition of one) holds a btrfs file system: its superblock magic `_BHRfS_M` at 64 KiB + 64 bytes. */
export const hasBtrfsSuperblock = (p: string): Check =>
  defineCheck(`${p} holds a btrfs file system`, async (ctx) => {
    const place = await btrfsPlace(abs(ctx, p));
    if (place === null) return fail('a btrfs superblock', `${abs(ctx, p)}: nothing there`);
    if (place.in === 'whole') return pass('btrfs magic _BHRfS_M at 64 KiB + 64');
    if (place.in === 'partition') return pass(`btrfs in partition ${place.index} (from byte ${place.start}), as after fdisk`);
    return fail('the btrfs magic _BHRfS_M at offset 0x10040 (or in a partition)', place.magic.length < 8 ? 'the file is too short' : `${JSON.stringify(place.magic)} there`, `mkfs.btrfs -f ${p}`);
  });

/** `/dev/loop0p1` -> `/dev/loop0`: a partition of a loop device (after fdisk and `losetup -P`, as CTHW does). Pure. */
export function loopOfPartition(device: string): string | null {
  const m = /^(\/dev\/loop\d+)p\d+$/.exec(device);
  return m?.[1] ?? null;
}

/** The loop device behind a mount source: the device itself, or the loop device a partition is on. */
const loopBehind = (loops: readonly LoopDevice[], source: string): { loop: LoopDevice; partition: boolean } | undefined => {
  const whole = loops.find((l) => l.name === source);
  if (whole !== undefined) return { loop: whole, partition: false };
  const of = loopOfPartition(source);
  const loop = of === null ? undefined : loops.find((l) => l.name === of);
  return loop === undefined ? undefined : { loop, partition: true };
};

/**
 * How the image is laid out, for a hint that works on it: where its btrfs is (the whole file, or a
 * partition after fdisk, as Container the Hard Way does), and the partition devices that the loop
 * devices backed by it have now (`/dev/loop1p1`, after `losetup -P`).
 */
export interface StoreLayout {
  btrfs: BtrfsPlace['in'];
  /** the MBR partition that holds the btrfs, when `btrfs` is 'partition' */
  partition?: number;
  partitionDevices: readonly string[];
}

/**
 * The command that mounts the image at the store, for its layout. `mount -o loop store.img store`
 * fails on a partitioned image ("wrong fs type, bad option, bad superblock"): its btrfs starts at
 * the partition, so the partition's device is mounted instead. `via`: the device it is mounted
 * from elsewhere now (still attached after that umount, unless mount -o loop made it). Pure.
 */
export function mountCommand(mountPoint: string, image: string, layout: StoreLayout, via?: string): string {
  if (via !== undefined && loopOfPartition(via) !== null) return `mount ${via} ${mountPoint}`;
  if (layout.btrfs !== 'partition') return `mount -o loop ${image} ${mountPoint}`;
  const wanted = layout.partitionDevices.find((d) => d.endsWith(`p${layout.partition ?? 1}`)) ?? layout.partitionDevices[0];
  return wanted !== undefined ? `mount ${wanted} ${mountPoint}` : `losetup -fP --show ${image} (it prints /dev/loopN), then mount /dev/loopNp${layout.partition ?? 1} ${mountPoint}`;
}

/**
 * Pure decision of `loopMountOf`: the visible mount at `mountPoint` is btrfs on a loop device (or
 * a partition of one) backed by `image`, and the image's file system is mounted nowhere else
 * (a second mount of the same btrfs is the same file system twice: changes show up in both).
 * `layout` makes the hints fit a partitioned image.
 */
export function judgeLoopMount(entries: readonly MountEntry[], loops: readonly LoopDevice[], mountPoint: string, image: string, baseDir?: string, layout: StoreLayout = { btrfs: 'whole', partitionDevices: [] }): Verdict {
  // Paths in the chapter folder are shown as the learner types them there (mnt, not /var/lib/…/mnt).
  const rel = (p: string): string => (baseDir !== undefined && p.startsWith(baseDir + '/') ? p.slice(baseDir.length + 1) : p);
  const expected = `btrfs at ${rel(mountPoint)} on a loop device backed by ${rel(image)}`;
  const top = mountsAt(entries, mountPoint).at(-1);
  const isOurs = (source: string): boolean => loopBehind(loops, source)?.loop.backFile === image;
  // Whole-file-system mounts of the image outside the store; bind mounts of a folder (root ≠ /) and mounts inside the store are fine.
  const elsewhere = entries.filter((e) => e.fsType === 'btrfs' && isOurs(e.source) && e.root === '/' && e.mountPoint !== mountPoint && !e.mountPoint.startsWith(mountPoint + '/'));
  const at = elsewhere.map((e) => `${rel(e.mountPoint)} (${e.source})`).join(', ');
  if (top === undefined || top.fsType !== 'btrfs') {
    const first = elsewhere[0];
    if (first !== undefined) return fail(expected, `${rel(image)} is already mounted elsewhere: ${at}`, `umount ${rel(first.mountPoint)}, then mkdir -p ${rel(mountPoint)}; ${mountCommand(rel(mountPoint), rel(image), layout, first.source)}`);
    return fail(expected, describeMountsAt(mountsAt(entries, mountPoint), mountPoint), `mkdir -p ${rel(mountPoint)}; ${mountCommand(rel(mountPoint), rel(image), layout)}`);
  }
  const behind = loopBehind(loops, top.source);
  if (behind === undefined) return fail(expected, `btrfs from ${top.source}, which is not a loop device nor a partition of one`);
  const { loop, partition } = behind;
  if (loop.backFile !== image) return fail(expected, `btrfs from ${top.source}${partition ? `, a partition of ${loop.name}` : ''}, backed by ${loop.backFile ?? '(nothing)'}`);
  if (elsewhere.length > 0) return fail(`${rel(image)} mounted only at ${rel(mountPoint)}`, `it is also mounted at ${at}`, `Mount the image only once: umount ${rel(elsewhere[0]?.mountPoint ?? '')}`);
  return pass(partition ? `btrfs from ${top.source}, a partition of ${loop.name} (backed by ${rel(image)})` : `btrfs from ${loop.name} (backed by ${rel(image)})`);
}

/** `mountPoint` is a btrfs mount whose device is a loop device (or a partition of one) backed by `image`. */
export const loopMountOf = (mountPoint: string, image: string): Check =>
  defineCheck(`${mountPoint} is btrfs on a loop device backed by ${image}`, async (ctx) => {
    const [entries, loops, place] = await Promise.all([readMountinfo(), readLoopDevices(), btrfsPlace(abs(ctx, image))]);
    const ours = loops.filter((l) => l.backFile === abs(ctx, image));
    const partitionDevices = (await Promise.all(ours.map((l) => loopPartitions(l.name)))).flat();
    const layout: StoreLayout = place?.in === 'partition' ? { btrfs: 'partition', partition: place.index, partitionDevices } : { btrfs: place?.in ?? 'none', partitionDevices };
    return judgeLoopMount(entries, loops, abs(ctx, mountPoint), abs(ctx, image), ctx.dir, layout);
  });

/** The partition devices of a loop device (`/dev/loop1p1` …), as sysfs lists them: only after `losetup -P` or `partx -a`. */
export async function loopPartitions(loop: string): Promise<string[]> {
  const name = loop.replace(/^\/dev\//, '');
  const entries = await readdir(`/sys/block/${name}`).catch(() => []);
  return entries.filter((e) => new RegExp(`^${name}p\\d+$`).test(e)).sort().map((e) => `/dev/${e}`);
}

/** How to make a missing subvolume: `btrfs subvolume create P` unless the step makes it another way (a snapshot, a receive). */
export interface SubvolumeHow {
  make?: string;
  /** when nothing is at the path, name the subvolumes that are in the store (the learner may have used another name) */
  nameOthers?: boolean;
  /**
   * When nothing is at the path, offer to move a snapshot of one of these subvolumes that lies
   * elsewhere in the store, except at the paths given (the chapter's own): a tutorial's name for
   * the same thing, such as Container the Hard Way's `run/littlebox` for the container layer.
   */
  snapshotsOf?: { sources: readonly string[]; except?: readonly string[] };
}

/**
 * Pure: the first snapshot of `sources` (their `btrfs subvolume show` lists, paths from the top
 * of the file system mounted at `storeDir`) that lies elsewhere than `p` and `except`: the way
 * to move it to `p`.
 */
export function snapshotElsewhere(shown: ReadonlyArray<{ source: string; info: SubvolumeInfo }>, storeDir: string, p: string, except: readonly string[] = []): { actual: string; hint: string } | null {
  for (const { source, info } of shown) {
    const found = info.snapshots.map((s) => `${storeDir}/${s}`).find((s) => s !== p && !except.includes(s));
    if (found !== undefined) {
      return {
        actual: `${p}: nothing there; the store has ${found}, a snapshot of ${source}`,
        hint: `This step wants it at ${p} (a renamed subvolume stays a subvolume): mv ${found} ${p}`,
      };
    }
  }
  return null;
}

/** Pure: the hint for a path that is not a subvolume yet. A plain folder in the way goes first (`btrfs subvolume create` would answer "target path already exists"). */
export function subvolumeHint(p: string, why: string, make: string, emptyDir: boolean): string {
  if (why.startsWith('a plain directory')) return `${emptyDir ? `rmdir ${p}` : `rm -r ${p}`} (a plain folder, not a subvolume), then ${make}`;
  if (why === 'not a directory') return `rm ${p}, then ${make}`;
  return make;
}

/** Pure: what a `btrfs subvolume list` of the store says when the wanted path is missing. */
export function otherSubvolumes(list: readonly SubvolumeListEntry[], storeDir: string, p: string): { actual: string; hint: string } | null {
  const found = list.filter((e) => `${storeDir}/${e.path}` !== p).map((e) => `${storeDir}/${e.path}`);
  if (found.length === 0) return null;
  const shown = found.slice(0, 5).join(', ') + (found.length > 5 ? ` and ${found.length - 5} more` : '');
  return {
    actual: `${p}: nothing there; the store has ${found.length === 1 ? 'the subvolume' : 'the subvolumes'} ${shown}`,
    hint: `This step wants it at ${p} (a renamed subvolume stays a subvolume): mv ${found[0] ?? ''} ${p}`,
  };
}

/** A btrfs subvolume is at `p` (the root of a subvolume has inode 256); the failure says what is there instead (a plain folder made with mkdir, nothing). */
export const isSubvolume = (p: string, how: SubvolumeHow = {}): Check =>
  defineCheck(`${p} is a btrfs subvolume (inode ${SUBVOLUME_ROOT_INODE})`, async (ctx) => {
    const at = abs(ctx, p);
    const why = await whyNotSubvolume(at);
    if (why === null) return pass(`inode ${SUBVOLUME_ROOT_INODE} on btrfs`);
    const make = how.make ?? `btrfs subvolume create ${p}`;
    if (why === 'nothing there' && how.nameOthers === true) {
      const store = dirname(p);
      const onBtrfs = await statfs(abs(ctx, store)).then((s) => s.type === BTRFS_SUPER_MAGIC, () => false);
      const others = onBtrfs ? otherSubvolumes(parseSubvolumeList(await runOk('btrfs', ['subvolume', 'list', abs(ctx, store)], { timeoutMs: BTRFS_PROGS_MS })), store, p) : null;
      if (others !== null) return fail('a subvolume', others.actual, others.hint);
    }
    if (why === 'nothing there' && how.snapshotsOf !== undefined) {
      const { sources, except } = how.snapshotsOf;
      const shown = [];
      for (const source of sources) if ((await whyNotSubvolume(abs(ctx, source))) === null) shown.push({ source, info: await showSubvolume(abs(ctx, source)) });
      const found = snapshotElsewhere(shown, dirname(p), p, except);
      if (found !== null) return fail('a subvolume', found.actual, found.hint);
    }
    const emptyDir = why.startsWith('a plain directory') && (await readdir(at).then((names) => names.length === 0, () => false));
    return fail('a subvolume', `${p}: ${why}`, subvolumeHint(p, why, make, emptyDir));
  }, BTRFS_CHECK);

/** Read-only, as `btrfs property get ro` says: set by `snapshot -r` or by `property set ro true`. */
export const subvolumeIsReadOnly = (p: string): Check => subvolumeRo(p, true);
/** Writable (`ro=false`): a container's layer, which the container changes. */
export const subvolumeIsWritable = (p: string): Check => subvolumeRo(p, false);

const subvolumeRo = (p: string, want: boolean): Check =>
  defineCheck(`${p} is ${want ? 'read-only' : 'writable'}`, async (ctx) => {
    const why = await whyNotSubvolume(abs(ctx, p));
    if (why !== null) return fail(`a ${want ? 'read-only' : 'writable'} subvolume`, `${p}: ${why}`);
    const ro = parsePropertyRo(await runOk('btrfs', ['property', 'get', '-ts', abs(ctx, p), 'ro'], { timeoutMs: BTRFS_PROGS_MS }));
    if (ro === want) return pass(`ro=${String(ro)}`);
    return want
      ? fail('ro=true', 'ro=false: the snapshot is writable', `Make it read-only (or take it again with btrfs subvolume snapshot -r): btrfs property set -ts ${p} ro true`)
      : fail('ro=false', 'ro=true: the snapshot is read-only, so the container cannot write to it', `Make it writable (or take it again without -r): btrfs property set -ts ${p} ro false`);
  }, BTRFS_CHECK);

/** Pure decision of `snapshotOf`. */
export function judgeSnapshotOf(snap: SubvolumeInfo, source: SubvolumeInfo, names: { snap: string; source: string }): Verdict {
  const expected = `Parent UUID of ${names.snap} = UUID of ${names.source} (${source.uuid ?? '-'})`;
  if (snap.parentUuid === null) return fail(expected, `${names.snap} has no Parent UUID: it is a new subvolume, not a snapshot`, `btrfs subvolume snapshot -r ${names.source} ${names.snap}`);
  return snap.parentUuid === source.uuid ? pass(`Parent UUID ${snap.parentUuid}`) : fail(expected, `Parent UUID ${snap.parentUuid}: a snapshot of another subvolume`);
}

const subvolumeOrFail = async (ctx: CheckContext, p: string): Promise<SubvolumeInfo | string> => {
  const why = await whyNotSubvolume(abs(ctx, p));
  return why === null ? showSubvolume(abs(ctx, p)) : `${p}: ${why}`;
};

/** Subvolume `snap` is a snapshot of `source`: its Parent UUID is the UUID of `source`. */
export const snapshotOf = (snap: string, source: string): Check =>
  defineCheck(`${snap} is a snapshot of ${source}`, async (ctx) => {
    const [s, src] = await Promise.all([subvolumeOrFail(ctx, snap), subvolumeOrFail(ctx, source)]);
    if (typeof s === 'string') return fail(`a snapshot of ${source}`, s);
    if (typeof src === 'string') return fail(`a snapshot of ${source}`, src);
    return judgeSnapshotOf(s, src, { snap, source });
  }, BTRFS_CHECK);

/** Pure decision of `receivedFrom`. */
export function judgeReceivedFrom(received: SubvolumeInfo, sent: SubvolumeInfo, names: { received: string; sent: string }): Verdict {
  const expected = `Received UUID of ${names.received} = UUID of ${names.sent} (${sent.uuid ?? '-'})`;
  if (received.receivedUuid === null) return fail(expected, `${names.received} has no Received UUID: it was not made by btrfs receive`, `btrfs subvolume delete ${names.received}, then btrfs receive -f FILE ${dirname(names.received)}`);
  return received.receivedUuid === sent.uuid ? pass(`Received UUID ${received.receivedUuid}`) : fail(expected, `Received UUID ${received.receivedUuid}: received from another snapshot`);
}

/** Subvolume `received` was made by `btrfs receive` of `sent`: its Received UUID is the UUID of `sent`. */
export const receivedFrom = (received: string, sent: string): Check =>
  defineCheck(`${received} was received from ${sent}`, async (ctx) => {
    const [r, s] = await Promise.all([subvolumeOrFail(ctx, received), subvolumeOrFail(ctx, sent)]);
    if (typeof r === 'string') return fail(`a subvolume received from ${sent}`, r, `btrfs receive -f FILE ${received.split('/').slice(0, -1).join('/') || '.'}`);
    if (typeof s === 'string') return fail(`a subvolume received from ${sent}`, s);
    return judgeReceivedFrom(r, s, { received, sent });
  }, BTRFS_CHECK);

/** An incremental receive makes a snapshot of the earlier received copy: its Parent UUID is that copy's UUID. */
export const receivedOnTopOf = (received: string, base: string): Check =>
  defineCheck(`${received} was received on top of ${base}`, async (ctx) => {
    const [r, b] = await Promise.all([subvolumeOrFail(ctx, received), subvolumeOrFail(ctx, base)]);
    if (typeof r === 'string') return fail(`a copy received on top of ${base}`, r);
    if (typeof b === 'string') return fail(`a copy received on top of ${base}`, b);
    return judgeSnapshotOf(r, b, { snap: received, source: base }).ok
      ? pass(`Parent UUID ${r.parentUuid ?? ''} = ${base}`)
      : fail(`Parent UUID of ${received} = UUID of ${base} (${b.uuid ?? '-'})`, r.parentUuid === null ? 'no Parent UUID: it was received from a full stream' : `Parent UUID ${r.parentUuid}`, 'Send with -p: btrfs send -p OLD NEW -f FILE');
  }, BTRFS_CHECK);

/** Pure decision of `sendStreamOf`: a stream of `snap` (full), or from `parent` to `snap` (incremental). */
export function judgeSendStream(s: SendStream | null, file: string, snap: SubvolumeInfo, parent?: SubvolumeInfo, paths?: { snap: string; parent: string }): Verdict {
  const expected = parent === undefined ? `a full send stream of ${snap.name} (${snap.uuid ?? '-'})` : `an incremental stream from ${parent.name} to ${snap.name}`;
  if (s === null) return fail(expected, `${file}: nothing there`);
  if (s.kind === 'not-a-stream') return fail(expected, `${file} does not start with btrfs-stream: it starts with ${s.head}`, 'Make it with btrfs send … -f FILE');
  if (s.uuid !== snap.uuid) return fail(expected, `a stream of ${s.path} (${s.uuid})`);
  if (parent === undefined) return pass(`a full stream of ${s.path} (version ${s.version})`);
  // the hint names the subvolumes by the paths the learner uses (store/base-snapshot), not by their bare names
  if (s.kind === 'full') return fail(expected, `a full stream of ${s.path}: it repeats every file`, `btrfs send -p ${paths?.parent ?? parent.name} ${paths?.snap ?? snap.name} -f ${file}`);
  return s.parentUuid === parent.uuid ? pass(`an incremental stream ${parent.name} -> ${s.path}`) : fail(expected, `an incremental stream from another parent (${s.parentUuid})`);
}

/** File `file` is a btrfs send stream of snapshot `snap` (it starts with the stream magic); with `parent`, an incremental one from `parent`. */
export const sendStreamOf = (file: string, snap: string, parent?: string): Check =>
  defineCheck(parent === undefined ? `${file} is a send stream of ${snap}` : `${file} is an incremental stream from ${parent} to ${snap}`, async (ctx) => {
    const [s, sn, par] = await Promise.all([readSendStream(abs(ctx, file)), subvolumeOrFail(ctx, snap), parent === undefined ? undefined : subvolumeOrFail(ctx, parent)]);
    if (typeof sn === 'string') return fail(`a send stream of ${snap}`, sn);
    if (typeof par === 'string') return fail(`a stream from ${parent ?? ''}`, par);
    return judgeSendStream(s, file, sn, par, parent === undefined ? undefined : { snap, parent });
  }, BTRFS_CHECK);

/** Pure decision of `muchSmallerThan`. */
export function judgeMuchSmaller(small: number, big: number, factor: number, names: { small: string; big: string }): Verdict {
  const expected = `${names.small} at most 1/${factor} of ${names.big} (${big} bytes)`;
  return small * factor <= big ? pass(`${small} bytes against ${big}: ${(big / Math.max(small, 1)).toFixed(0)}× smaller`) : fail(expected, `${small} bytes`, 'An incremental stream carries only what changed between the two snapshots.');
}

/** File `small` is at most 1/`factor` of the size of `big` (an incremental send stream against a full one). */
export const muchSmallerThan = (small: string, big: string, factor: number): Check =>
  defineCheck(`${small} is much smaller than ${big}`, async (ctx) => {
    const [a, b] = await Promise.all([stat(abs(ctx, small)), stat(abs(ctx, big))]);
    return judgeMuchSmaller(a.size, b.size, factor, { small, big });
  });
