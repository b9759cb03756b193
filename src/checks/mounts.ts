// Mount checks: they read /proc/PID/mountinfo, the kernel's own table of mounts, and never
// `mount` or `findmnt` output, which libmount rewrites (it hides options and resolves paths).

import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import type { Check, CheckContext, Verdict } from './check.ts';
import { defineCheck, fail, pass } from './check.ts';

/** One line of /proc/PID/mountinfo (see proc_pid_mountinfo(5)). */
export interface MountEntry {
  id: number;
  parentId: number;
  majorMinor: string;
  /** the path inside the source file system that is mounted: not `/` for a bind mount of a folder */
  root: string;
  mountPoint: string;
  /** per-mount options (rw/ro, nosuid, relatime…) */
  mountOptions: string[];
  /** shared:N, master:N, propagate_from:N, unbindable */
  optionalFields: string[];
  fsType: string;
  source: string;
  /**
   * Per-superblock options exactly as the kernel prints them, still escaped: an overlay
   * layer named `co,mma` shows up as `co\054mma`, so splitting on `,` must come before
   * decoding (see overlayfs.ts).
   */
  superOptions: string;
}

/**
 * Decodes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134`
 * backslash, `\054` comma…). Recorded: a mount point `merged 2` shows up as `merged\0402`.
 * The kernel escapes only those ASCII characters; other bytes (UTF-8 names) come through raw.
 */
export const decodeOctal = (s: string): string =>
  s.replace(/\\([0-3][0-7]{2})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

const toInt = (s: string | undefined, what: string, line: string): number => {
  if (s === undefined || !/^\d+$/.test(s)) throw new Error(`mountinfo: bad ${what} in line: ${line}`);
  return Number(s);
};

/** Parses /proc/PID/mountinfo text. Pure; throws a clear Error on a line it does not understand. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // Fields are separated by single spaces; the kernel escapes spaces inside paths.
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length !== dash + 4) {
      throw new Error(`mountinfo: malformed line (expected "… - fstype source options"): ${line}`);
    }
    const [id, parentId, majorMinor, root, mountPoint, mountOptions] = fields;
    if (majorMinor === undefined || !/^\d+:\d+$/.test(majorMinor)) throw new Error(`mountinfo: bad major:minor in line: ${line}`);
    entries.push({
      id: toInt(id, 'mount id', line),
      parentId: toInt(parentId, 'parent id', line),
      majorMinor,
      root: decodeOctal(root ?? ''),
      mountPoint: decodeOctal(mountPoint ?? ''),
      mountOptions: (mountOptions ?? '').split(','),
      optionalFields: fields.slice(6, dash),
      fsType: decodeOctal(fields[dash + 1] ?? ''),
      source: decodeOctal(fields[dash + 2] ?? ''),
      superOptions: fields[dash + 3] ?? '',
    });
  }
  return entries;
}

/** Reads the mount table of a process's mount namespace. */
export async function readMountinfo(pid: number | 'self' = 'self'): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(`/proc/${pid}/mountinfo`, 'utf8'));
}

/** Removes trailing slashes and `.`/`..` so that `merged/` and `merged` compare equal. */
export const normalizePath = (p: string, baseDir = '/'): string => resolve(baseDir, p);

/** `dir` is a strict parent folder of `p` (both normalized). */
const isParentFolder = (dir: string, p: string): boolean => p !== dir && p.startsWith(dir === '/' ? '/' : dir + sep);

/**
 * The later mount that hides `entry` from a path lookup, if any. A lookup walks the tree of
 * mounts (parent ids) from the root: at each mount it goes into the child mounted on the way,
 * so a child at a parent folder of `entry`'s point (`mount … data` after `mount … data/cache`)
 * or a sibling mounted later at the same point hides `entry` and everything on it. Recorded in
 * test/fixtures/mountinfo/hidden-by-*.txt. A mount whose parent is not in the table (the root,
 * or a table cut down by grep) counts as reached.
 */
export function hiddenBy(entries: readonly MountEntry[], entry: MountEntry): MountEntry | undefined {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const seen = new Set<number>();
  for (let child = entry, parent = byId.get(entry.parentId); parent !== undefined && !seen.has(child.id); child = parent, parent = byId.get(parent.parentId)) {
    seen.add(child.id);
    const from = parent.id;
    const at = child.mountPoint;
    const index = entries.indexOf(child);
    const cover = entries.find((e, i) => e.parentId === from && e !== child && (isParentFolder(e.mountPoint, at) || (e.mountPoint === at && i > index)));
    if (cover !== undefined) return cover;
  }
  return undefined;
}

/** Every mount at exactly `path`, hidden or not, in mount order. */
export function allMountsAt(entries: readonly MountEntry[], path: string): MountEntry[] {
  const p = normalizePath(path);
  return entries.filter((e) => e.mountPoint === p);
}

/**
 * The mounts at exactly `path` that a path lookup reaches, in mount order: the last one is the
 * one you see, the others are stacked under it. A mount hidden by a later mount of `path` or of a
 * parent folder (see hiddenBy) is left out: for the learner it is not there.
 */
export function mountsAt(entries: readonly MountEntry[], path: string): MountEntry[] {
  return allMountsAt(entries, path).filter((e) => hiddenBy(entries, e) === undefined);
}

/** Mounts at `dir` or below it, deepest first: the order in which they can be unmounted. */
export function mountsUnder(entries: readonly MountEntry[], dir: string): MountEntry[] {
  const d = normalizePath(dir);
  const prefix = d === '/' ? '/' : d + sep;
  const under = entries.filter((e) => e.mountPoint === d || e.mountPoint.startsWith(prefix));
  // Deeper paths first; at equal depth the newest mount (higher in the table) first.
  const depth = (e: MountEntry): number => (e.mountPoint === '/' ? 0 : e.mountPoint.split('/').length);
  return under
    .map((e, i) => ({ e, i }))
    .sort((a, b) => depth(b.e) - depth(a.e) || b.i - a.i)
    .map(({ e }) => e);
}

/**
 * Read-only either per mount (`mount -o remount,ro,bind`) or for the whole superblock. An
 * overlay with only lowerdirs is the second kind: recorded as mount options `rw,relatime`
 * with super options `ro,lowerdir=rootfs:base,…`.
 */
export function isReadOnly(entry: MountEntry): boolean {
  return entry.mountOptions.includes('ro') || entry.superOptions.split(',').includes('ro');
}

/** A short description for messages: `tmpfs`, `a bind mount of /srv/rootfs (ext4)`. */
export function describeMount(entry: MountEntry): string {
  return entry.root === '/' ? entry.fsType : `a bind mount of ${entry.root} (${entry.fsType})`;
}

/** What else is at `path`, for messages: `tmpfs is mounted there (on top of ext4)`. */
export function describeMountsAt(found: readonly MountEntry[], path: string): string {
  const top = found.at(-1);
  if (top === undefined) return `nothing is mounted at ${path}`;
  const below = found.slice(0, -1).map(describeMount).reverse();
  return `${describeMount(top)} is mounted there${below.length > 0 ? ` (on top of ${below.join(', ')})` : ''}`;
}

/** The newest mount at `path` that a later mount hides, with the mount that hides it. */
function hiddenAt(entries: readonly MountEntry[], path: string): { hidden: MountEntry; cover: MountEntry } | undefined {
  for (const hidden of allMountsAt(entries, path).reverse()) {
    const cover = hiddenBy(entries, hidden);
    if (cover !== undefined) return { hidden, cover };
  }
  return undefined;
}

/** The failure when no mount at `path` is reached: names a hidden one and what hides it. */
function nothingVisible(entries: readonly MountEntry[], path: string, expected: string): Verdict {
  const found = hiddenAt(entries, path);
  if (found === undefined) return fail(expected, `nothing is mounted at ${path}`, `findmnt ${path}`);
  const { hidden, cover } = found;
  return fail(expected, `${describeMount(hidden)} is mounted at ${path} but hidden by ${describeMount(cover)} mounted later at ${cover.mountPoint}`, `umount ${cover.mountPoint}`);
}

/** Pure decision of `mountedAt`. */
export function judgeMountedAt(entries: readonly MountEntry[], path: string, opts: { fsType?: string } = {}): Verdict {
  const found = mountsAt(entries, path);
  const top = found.at(-1);
  const expected = opts.fsType === undefined ? `something mounted at ${path}` : `${opts.fsType} mounted at ${path}`;
  if (top === undefined) return nothingVisible(entries, path, expected);
  if (opts.fsType !== undefined && top.fsType !== opts.fsType) {
    const hidden = found.some((e) => e.fsType === opts.fsType);
    return fail(expected, describeMountsAt(found, path), hidden ? `a ${opts.fsType} is there but hidden by a later mount; unmount the top one` : undefined);
  }
  return pass(`${describeMount(top)} is mounted at ${path}${isReadOnly(top) ? ' (read-only)' : ''}`);
}

/** Pure decision of `notMountedAt`: a mount hidden by a later one still counts (it is still mounted). */
export function judgeNotMountedAt(entries: readonly MountEntry[], path: string): Verdict {
  const found = mountsAt(entries, path);
  const expected = `nothing mounted at ${path}`;
  if (found.length > 0) return fail(expected, describeMountsAt(found, path), `umount ${path}${found.length > 1 ? ` (${found.length} times)` : ''}`);
  return hiddenAt(entries, path) === undefined ? pass(`nothing is mounted at ${path}`) : nothingVisible(entries, path, expected);
}

/** The absolute path a check means: relative paths are inside the chapter folder. */
export const ctxPath = (ctx: CheckContext, path: string): string => normalizePath(isAbsolute(path) ? path : ctx.path(path));

/**
 * Like ctxPath, with symlinks resolved when the path exists: mountinfo shows mount points
 * as real paths, whatever path was given to mount(8).
 */
export async function checkPath(ctx: CheckContext, path: string): Promise<string> {
  const abs = ctxPath(ctx, path);
  try {
    return await realpath(abs);
  } catch {
    return abs;
  }
}

/**
 * Something (of `fsType`, if given) is the visible mount at `path`: the top of the mounts there,
 * and not hidden by a later mount of a parent folder.
 */
export function mountedAt(path: string, opts: { fsType?: string } = {}): Check {
  return defineCheck(`${opts.fsType ?? 'a file system'} is mounted at ${path}`, async (ctx) =>
    judgeMountedAt(await readMountinfo(), await checkPath(ctx, path), opts),
  );
}

/** Nothing at all is mounted at `path`, not even a mount hidden by a later one. */
export function notMountedAt(path: string): Check {
  return defineCheck(`nothing is mounted at ${path}`, async (ctx) => judgeNotMountedAt(await readMountinfo(), await checkPath(ctx, path)));
}

/**
 * Calls onChange soon after any mount or unmount in our mount namespace. The kernel reports that
 * by poll(2) on /proc/self/mountinfo, which fs.watch cannot do; `findmnt --poll` (util-linux)
 * does it and prints a line per change. Without findmnt, mountinfo is re-read every 150 ms and
 * compared. Returns the function that stops watching.
 */
export async function onMountChange(onChange: () => void): Promise<() => void> {
  const { followLines } = await import('../sys/exec.ts');
  const stop = await followLines('findmnt', ['--poll', '--noheadings', '--output', 'ACTION,TARGET'], () => onChange());
  if (stop !== null) return stop;
  let last = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const timer = setInterval(() => {
    void readFile('/proc/self/mountinfo', 'utf8').then((now) => {
      if (now !== last) {
        last = now;
        onChange();
      }
    }, () => {});
  }, 150);
  timer.unref();
  return () => clearInterval(timer);
}
