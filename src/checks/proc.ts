// Processes, read from /proc. Processes come and go while we read, so every per-PID read
// treats a vanished PID as "no answer" instead of an error.
import { readFile, readdir, readlink } from 'node:fs/promises';
import { parseMountinfo, type MountEntry } from './mounts.ts';

/** The fields of `/proc/PID/status` the checks use. */
export interface ProcStatus {
  name: string;
  pid: number;
  ppid: number;
  /** the PID in each PID namespace, outermost first: `[4368, 1]` inside `unshare --pid --fork` */
  nspid: number[];
  /** real, effective, saved and filesystem UIDs */
  uid: number[];
  /**
   * The state letter of the State line: R running, S sleeping, D disk sleep, T stopped, I idle,
   * Z zombie. A zombie has exited but its parent has not reaped it: its /proc/PID stays readable,
   * so a check that a process lives must read this, not only that /proc/PID exists.
   */
  state: string;
}

const numbers = (s: string): number[] =>
  s
    .trim()
    .split(/\s+/)
    .filter((x) => x !== '')
    .map(Number);

/** Parses /proc/PID/status ("Key:\tvalue" lines). */
export function parseStatus(text: string): ProcStatus {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).replace(/^\t/, ''));
  }
  const name = fields.get('Name');
  const pid = fields.get('Pid');
  const ppid = fields.get('PPid');
  if (name === undefined || pid === undefined || ppid === undefined) throw new Error('not a /proc/PID/status: Name, Pid or PPid missing');
  const nspid = fields.get('NSpid');
  return {
    name,
    pid: Number(pid),
    ppid: Number(ppid),
    // NSpid exists since Linux 4.1; before that a process lives in one PID namespace as far as we can tell
    nspid: nspid === undefined ? [Number(pid)] : numbers(nspid),
    uid: numbers(fields.get('Uid') ?? ''),
    state: (fields.get('State') ?? '?').trim().charAt(0) || '?',
  };
}

/** The process group of a PID (field 5 of /proc/PID/stat), or null when it is gone. */
export async function processGroup(pid: number): Promise<number | null> {
  const text = await orNull(readFile(`/proc/${pid}/stat`, 'utf8'));
  // The name (field 2) may hold spaces and parentheses: the fields after the last ')' are fixed.
  const rest = text === null ? undefined : text.slice(text.lastIndexOf(')') + 2).split(' ');
  const pgrp = rest?.[2];
  return pgrp === undefined ? null : Number(pgrp);
}

/**
 * Errors that mean "this process is gone, or not ours to read". EINVAL: an exiting process has no
 * mount namespace left, and opening its /proc/PID/mountinfo fails so (seen while a killed
 * container of the capstone was being reaped).
 */
const isGone = (err: unknown): boolean =>
  err instanceof Error && 'code' in err && ['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'ENOTDIR', 'EINVAL'].includes(String(err.code));

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** Every PID in /proc. */
export async function listPids(): Promise<number[]> {
  const names = await readdir('/proc');
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** `/proc/PID/status`, parsed (Name, NSpid, Uid …); null when the process is gone. */
export const readStatus = async (pid: number): Promise<ProcStatus | null> => {
  const text = await orNull(readFile(`/proc/${pid}/status`, 'utf8'));
  return text === null ? null : parseStatus(text);
};

/**
 * Where a root mount of another mount namespace lies in ours: the mount of the same device whose
 * root field holds the foreign root's, deepest first. Pure. Null when our namespace does not show
 * that file system (a tmpfs made inside the container).
 */
export function rootInOurNamespace(foreignRoot: MountEntry, ours: readonly MountEntry[]): string | null {
  const holders = ours
    .filter((m) => m.majorMinor === foreignRoot.majorMinor && isPathUnder(foreignRoot.root, m.root))
    .sort((a, b) => b.root.length - a.root.length || a.mountPoint.length - b.mountPoint.length);
  const h = holders[0];
  if (h === undefined) return null;
  const rest = foreignRoot.root.slice(h.root === '/' ? 0 : h.root.length);
  return h.mountPoint === '/' ? rest || '/' : `${h.mountPoint}${rest === '/' ? '' : rest}`;
}

/**
 * Where the process's `/` is, as seen from ours; null when it is gone or unreadable.
 * After pivot_root in another mount namespace, readlink of /proc/PID/root says `/` (recorded: the
 * kernel prints the path up to that namespace's root), so for such a process the root mount of
 * its own mountinfo is mapped back onto ours.
 */
export async function procRoot(pid: number): Promise<string | null> {
  const link = await orNull(readlink(`/proc/${pid}/root`));
  if (link !== '/') return link;
  const [theirs, ours] = await Promise.all([orNull(readlink(`/proc/${pid}/ns/mnt`)), orNull(readlink('/proc/self/ns/mnt'))]);
  if (theirs === null || theirs === ours) return link;
  const text = await orNull(readFile(`/proc/${pid}/mountinfo`, 'utf8'));
  // The last mount at / is the one on top: what the process sees as its root.
  const root = (text === null ? [] : parseMountinfo(text)).filter((m) => m.mountPoint === '/').at(-1);
  if (root === undefined) return link;
  return rootInOurNamespace(root, parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'))) ?? link;
}
/** The cwd of a process (`/proc/PID/cwd`); null when it is gone. */
export const procCwd = (pid: number): Promise<string | null> => orNull(readlink(`/proc/${pid}/cwd`));

/** `{ mnt: 'mnt:[4026531841]', net: 'net:[4026531840]', … }`; empty when the process is gone. */
export async function nsLinks(pid: number): Promise<Record<string, string>> {
  const names = await orNull(readdir(`/proc/${pid}/ns`));
  const out: Record<string, string> = {};
  for (const name of names ?? []) {
    const link = await orNull(readlink(`/proc/${pid}/ns/${name}`));
    if (link !== null) out[name] = link;
  }
  return out;
}

/** True when p is dir or lies below it (by path, not by prefix: /a/bc is not under /a/b). */
export function isPathUnder(p: string, dir: string): boolean {
  const d = dir.endsWith('/') && dir !== '/' ? dir.slice(0, -1) : dir;
  return p === d || p.startsWith(d === '/' ? '/' : `${d}/`);
}

/** Where a process lives: its root and cwd (null when unreadable), and whether it is in namespaces of its own. */
export interface ProcessPlace {
  pid: number;
  root: string | null;
  cwd: string | null;
  /**
   * In a PID or UTS namespace other than ours: a container (`unshare --pid --fork`, `--uts`), never
   * a learner's shell, which shares ours. Net and mount namespaces do not count: the lab shell
   * (`workshop shell host`) has its own, and it is the learner's.
   */
  isolated?: boolean;
}

const ISOLATING = ['pid', 'uts'] as const;

/** Whether a process lives in another PID or UTS namespace than ours (`mine`, read once per scan); false when unreadable. */
async function isolatedFromUs(pid: number, mine: ReadonlyArray<string | null>): Promise<boolean> {
  const theirs = await Promise.all(ISOLATING.map((ns) => readlink(`/proc/${pid}/ns/${ns}`).catch(() => null)));
  return theirs.some((t, i) => t !== null && mine[i] !== null && mine[i] !== undefined && t !== mine[i]);
}

/** Root and cwd of every process but PID 1 and ourselves, and `isolated` unless only the `places` are asked for (a third fewer reads of /proc). */
export async function processPlaces(read: 'places' | 'isolation' = 'isolation'): Promise<ProcessPlace[]> {
  const withIsolation = read === 'isolation';
  const pids = (await listPids()).filter((p) => p !== 1 && p !== process.pid);
  const mine = withIsolation ? await Promise.all(ISOLATING.map((ns) => readlink(`/proc/self/ns/${ns}`).catch(() => null))) : [];
  return Promise.all(pids.map(async (pid) => {
    const [root, cwd] = await Promise.all([procRoot(pid), procCwd(pid)]);
    return withIsolation ? { pid, root, cwd, isolated: await isolatedFromUs(pid, mine) } : { pid, root, cwd };
  }));
}

export const placeIsUnder = (place: ProcessPlace, dirs: readonly string[]): boolean =>
  dirs.some((d) => (place.root !== null && isPathUnder(place.root, d)) || (place.cwd !== null && isPathUnder(place.cwd, d)));

/**
 * Pure: a process that a cleanup may stop. Its root is in one of dirs (a chroot, a pivoted
 * container), or it lives in a PID or UTS namespace of its own and was started from there (an
 * un-pivoted `unshare … sleep`). A process that only has its cwd there is the learner's shell or
 * pager, never a container: it is left alone.
 */
export function isContainerUnder(place: ProcessPlace, dirs: readonly string[]): boolean {
  const under = (p: string | null): boolean => p !== null && dirs.some((d) => isPathUnder(p.replace(/ \(deleted\)$/, ''), d));
  return under(place.root) || (place.isolated === true && under(place.cwd));
}

/** PIDs of the containers under dirs ({@link isContainerUnder}), never this process or its parents: what a cleanup kills. */
export async function containersUnder(dirs: string | readonly string[]): Promise<number[]> {
  const list = typeof dirs === 'string' ? [dirs] : dirs;
  const [places, self] = await Promise.all([processPlaces(), ancestors()]);
  return places.filter((p) => !self.has(p.pid) && isContainerUnder(p, list)).map((p) => p.pid);
}

/** PIDs whose root or cwd is at or under one of dirs (PID 1 and this process excluded); to find, never to kill: see {@link containersUnder}. */
export async function processesUnder(dirs: string | readonly string[]): Promise<number[]> {
  const list = typeof dirs === 'string' ? [dirs] : dirs;
  return (await processPlaces('places')).filter((p) => placeIsUnder(p, list)).map((p) => p.pid);
}

/**
 * This process and its parents. The shell that runs workshop usually has its cwd in the chapter
 * folder (`cd $(workshop path)`), so whatever kills "processes under the workspace" spares these.
 */
export async function ancestors(): Promise<Set<number>> {
  const out = new Set<number>([process.pid]);
  for (let pid = process.ppid; pid > 1 && !out.has(pid); ) {
    out.add(pid);
    pid = (await readStatus(pid))?.ppid ?? 0;
  }
  return out;
}
