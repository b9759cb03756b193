// Namespaces, read from /proc: the /proc/PID/ns/* links name a namespace by its inode, so two
// processes share one exactly when their links are equal. "The host" is PID 1's namespaces.
// Containers are found without the learner's help: by a hostname of their own (read inside their
// UTS namespace), or by a root of their own that holds a working BusyBox.
import { readFile, readlink, stat } from 'node:fs/promises';
import { run } from '../sys/exec.ts';
import { parseMountinfo, type MountEntry } from './mounts.ts';
import { processStart } from '../sys/process.ts';
import { listPids, nsLinks, readStatus, type ProcStatus } from './proc.ts';

/** The namespace types a container runtime unshares, as named in /proc/PID/ns. */
export const NS_TYPES = ['uts', 'pid', 'mnt', 'ipc', 'net', 'user', 'cgroup'] as const;
export type NsType = (typeof NS_TYPES)[number];

/** A process with its status and namespace links, as the namespace checks see it. */
export interface NsProcess {
  pid: number;
  status: ProcStatus;
  /** `{ uts: 'uts:[4026532180]', … }` */
  ns: Record<string, string>;
}

/** One line of /proc/PID/uid_map: `inside` maps to `outside` for `count` ids. */
export interface IdMapping {
  inside: number;
  outside: number;
  count: number;
}

/** Parses /proc/PID/uid_map or gid_map (three numbers per line; empty when nothing is mapped). */
export function parseIdMap(text: string): IdMapping[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/).map(Number);
      const [inside, outside, count] = f;
      if (f.length !== 3 || inside === undefined || outside === undefined || count === undefined || f.some((n) => !Number.isInteger(n))) {
        throw new Error(`uid_map: expected three numbers, got: ${l}`);
      }
      return { inside, outside, count };
    });
}

/** The outside id that `inside` maps to, or null when it is unmapped (it then shows as 65534). */
export function mapId(map: readonly IdMapping[], inside: number): number | null {
  const m = map.find((x) => inside >= x.inside && inside < x.inside + x.count);
  return m === undefined ? null : m.outside + (inside - m.inside);
}

/** Interface names from /proc/PID/net/dev: two header lines, then `  name: counters…`. */
export function parseNetDev(text: string): string[] {
  const lines = text.split('\n');
  if (!/^Inter-\|/.test(lines[0] ?? '')) throw new Error('not /proc/net/dev: its first line should start with "Inter-|"');
  return lines
    .slice(2)
    .map((l) => /^\s*([^:\s]+):/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** A System V message queue (`/proc/sysvipc/msg`), to tell IPC namespaces apart. */
export interface SysvQueue {
  key: number;
  msqid: number;
}

/** /proc/sysvipc/msg: a header line, then one queue per line (`key msqid perms …`). */
export function parseSysvMsg(text: string): SysvQueue[] {
  const [header, ...rows] = text.split('\n');
  if (!/^\s*key\s+msqid\b/.test(header ?? '')) throw new Error('not /proc/sysvipc/msg: its header should start with "key msqid"');
  return rows
    .filter((r) => r.trim() !== '')
    .map((r) => {
      const [key, msqid] = r.trim().split(/\s+/).map(Number);
      if (key === undefined || msqid === undefined || Number.isNaN(key) || Number.isNaN(msqid)) throw new Error(`/proc/sysvipc/msg: bad line: ${r}`);
      return { key, msqid };
    });
}

const mountKey = (m: MountEntry): string => `${m.majorMinor} ${m.root}`;

/**
 * The mounts of a container that show a piece of the host: the same file system and folder
 * (major:minor and root field) as one of the host's mounts. After a clean pivot_root there are
 * none: the new root is a folder of a host disk (its root field is that folder, not `/`), and a
 * proc mounted inside is a new instance. An old root left mounted shows the host's `/`. Pure.
 */
export function hostMountsVisible(inside: readonly MountEntry[], host: readonly MountEntry[]): MountEntry[] {
  const hostKeys = new Set(host.map(mountKey));
  return inside.filter((m) => hostKeys.has(mountKey(m)));
}

/** Mounts a container has that the host has not (by mount point, type and source). Pure. */
export function mountsOnlyInside(inside: readonly MountEntry[], host: readonly MountEntry[]): MountEntry[] {
  const key = (m: MountEntry) => `${m.mountPoint} ${m.fsType} ${m.source}`;
  const hostKeys = new Set(host.map(key));
  return inside.filter((m) => !hostKeys.has(key(m)));
}

/**
 * The host's namespaces: PID 1's. Where PID 1's links cannot be read (this build machine's init,
 * process_api, answers EACCES even to root), workshop's own: it runs on the host. The mount
 * namespace is always workshop's own: `workshop test` runs in a private one (a /tmp of its own,
 * engine/private-tmp.ts), and what the chapter starts without `unshare -m` lives in that one.
 * `read` is injectable, to test a host whose links cannot be read.
 */
export async function hostNamespaces(read: (pid: number) => Promise<Record<string, string>> = nsLinks): Promise<Record<string, string>> {
  const [init, own] = await Promise.all([read(1), read(process.pid)]);
  if (Object.keys(init).length === 0) return own;
  const { mnt, ...rest } = init;
  const ownMnt = own['mnt'] ?? mnt;
  return ownMnt === undefined ? rest : { ...rest, mnt: ownMnt };
}

/**
 * Refuses to go on without the host's link for each of `types`: without them every process would
 * look namespaced, and a cleanup that kills "the container's processes" would kill them all.
 */
export function requireHostNamespaces(host: Readonly<Record<string, string>>, types: readonly string[]): void {
  const missing = types.filter((t) => host[t] === undefined);
  if (missing.length > 0) throw new Error(`cannot read the host's namespaces (${missing.join(', ')}) in /proc/1/ns or /proc/self/ns: nothing is killed`);
}

/** The types whose link differs from the host's: the namespaces this process does not share. Pure. */
export const ownNamespaces = (ns: Readonly<Record<string, string>>, host: Readonly<Record<string, string>>): NsType[] =>
  NS_TYPES.filter((t) => ns[t] !== undefined && host[t] !== undefined && ns[t] !== host[t]);

/** The hostname inside a process's UTS namespace; null when the process is gone. */
export async function hostnameIn(pid: number): Promise<string | null> {
  // /proc/sys/kernel/hostname shows the reader's UTS namespace, so read it from inside.
  const r = await run('nsenter', ['-t', String(pid), '-u', 'cat', '/proc/sys/kernel/hostname'], { timeoutMs: 5000 });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** The host's own hostname (this process runs in the host's UTS namespace). */
export const hostHostname = (): string => process.getBuiltinModule('node:os').hostname();

async function describe(pid: number): Promise<NsProcess | null> {
  const [status, ns] = await Promise.all([readStatus(pid), nsLinks(pid)]);
  return status === null || Object.keys(ns).length === 0 ? null : { pid, status, ns };
}

const present = <T>(x: T | null): x is T => x !== null;

/** A container found by what makes it one: a process in a UTS namespace of its own, renamed inside. */
export interface Container extends NsProcess {
  /** its hostname, read inside its UTS namespace */
  hostname: string;
}

/**
 * The UTS namespaces that are not the host's, with their members, in PID order. Pure.
 * A systemd service with ProtectHostname= has one too, so a caller also compares the hostname.
 */
export function foreignUtsGroups(pids: readonly number[], uts: readonly (string | null | undefined)[], hostUts: string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  pids.forEach((p, i) => {
    const u = uts[i];
    if (u !== null && u !== undefined && u !== hostUts) groups.set(u, [...(groups.get(u) ?? []), p]);
  });
  return groups;
}

/**
 * Every process whose UTS namespace is not the host's and whose hostname there differs from the
 * host's: a container and all its children, whatever the learner called it (`container` as the
 * chapter says, `littlebox` as Container the Hard Way does). With `name`, only those called that.
 * One nsenter per namespace, not per process.
 */
export async function findContainers(name?: string): Promise<Container[]> {
  const host = (await hostNamespaces())['uts'];
  if (host === undefined) throw new Error("cannot read the host's UTS namespace (/proc/1/ns/uts)");
  const hostName = hostHostname();
  const pids = (await listPids()).filter((p) => p !== process.pid);
  const uts = await Promise.all(pids.map((p) => readlink(`/proc/${p}/ns/uts`).catch(() => null)));
  const named = await Promise.all(
    [...foreignUtsGroups(pids, uts, host).values()].map(async (members) => {
      for (const p of members) {
        const h = await hostnameIn(p);
        if (h === null) continue;
        const wanted = name === undefined ? h !== hostName : h === name;
        return wanted ? members.map((pid) => ({ pid, hostname: h })) : [];
      }
      return [];
    }),
  );
  const found = await Promise.all(named.flat().map(async ({ pid, hostname: h }) => {
    const d = await describe(pid);
    return d === null ? null : { ...d, hostname: h };
  }));
  return found.filter(present);
}

/** The container's process that matters most: PID 1 of its PID namespace, else the first. Pure. */
export function containerInit<T extends NsProcess>(members: readonly T[]): T | undefined {
  return members.find((p) => p.status.nspid.length > 1 && p.status.nspid.at(-1) === 1) ?? members[0];
}

/**
 * Processes whose `/` is not the host's (a chroot or a pivot_root) and holds a BusyBox that runs:
 * the chapter's rootfs, chapter 04's container layer (a btrfs subvolume or snapshot), or any other
 * root a learner made. BusyBox is run chrooted into /proc/PID/root, which reaches that root from
 * here, also in another mount namespace: judged from inside, a BusyBox linked dynamically finds
 * its loader and libraries where the container does. Run from the host it did not: Alpine's,
 * linked against musl, exited 127 here, where there is no /lib/ld-musl-x86_64.so.1 (issue 25).
 */
export async function processesWithBusyboxRoot(): Promise<NsProcess[]> {
  const ours = await stat('/');
  const pids = (await listPids()).filter((p) => p !== process.pid && p !== 1);
  const roots = await Promise.all(pids.map((p) => stat(`/proc/${p}/root`).catch(() => null)));
  const foreign = pids.filter((_, i) => {
    const s = roots[i];
    return s !== null && s !== undefined && (s.dev !== ours.dev || s.ino !== ours.ino);
  });
  // One BusyBox run per distinct root, not per process.
  const byRoot = new Map<string, number[]>();
  foreign.forEach((p) => {
    const s = roots[pids.indexOf(p)];
    const key = `${s?.dev ?? 0}:${s?.ino ?? 0}`;
    byRoot.set(key, [...(byRoot.get(key) ?? []), p]);
  });
  const working = await Promise.all(
    [...byRoot.values()].map(async (members) => {
      for (const p of members) {
        const r = await run('chroot', [`/proc/${p}/root`, '/bin/busybox', 'true'], { timeoutMs: 5000 });
        if (r.code === 0) return members;
      }
      return [];
    }),
  );
  return (await Promise.all(working.flat().map(describe))).filter(present);
}

/**
 * One process for each network namespace that has none of the names given (as `net:[inode]`
 * links): its oldest, which for `unshare --net …` is `unshare` itself, the PID Container the Hard
 * Way's `pidof unshare` gives. To find a namespace that has no name yet, and name it with
 * `ip netns attach NAME PID`.
 */
export async function netnsHolders(except: readonly string[]): Promise<Array<{ ns: string; pid: number }>> {
  const pids = (await listPids()).filter((p) => p !== process.pid);
  const links = await Promise.all(pids.map((p) => readlink(`/proc/${p}/ns/net`).catch(() => null)));
  const oldest = new Map<string, { pid: number; start: number }>();
  pids.forEach((pid, i) => {
    const ns = links[i];
    if (ns === null || ns === undefined || except.includes(ns)) return;
    const start = processStart(pid) ?? Number.MAX_SAFE_INTEGER;
    const seen = oldest.get(ns);
    if (seen === undefined || start < seen.start) oldest.set(ns, { pid, start });
  });
  return [...oldest].map(([ns, { pid }]) => ({ ns, pid }));
}

/** Processes whose `/` is `dir` itself (same device and inode): a chroot or a pivot_root into it. */
export async function processesRootedAt(dir: string): Promise<NsProcess[]> {
  const want = await stat(dir);
  const pids = (await listPids()).filter((p) => p !== process.pid && p !== 1);
  const roots = await Promise.all(pids.map((p) => stat(`/proc/${p}/root`).catch(() => null)));
  const hits = pids.filter((_, i) => {
    const s = roots[i];
    return s !== null && s !== undefined && s.dev === want.dev && s.ino === want.ino;
  });
  return (await Promise.all(hits.map(describe))).filter(present);
}

/**
 * Where each container was started from: the nearest ancestor outside its UTS namespace (PID 1
 * when the starter has exited) and that ancestor's hostname.
 */
export async function startedFrom(p: NsProcess): Promise<{ pid: number; hostname: string | null }> {
  let pid = p.status.ppid;
  for (let hops = 0; hops < 64 && pid > 1; hops++) {
    const up = await describe(pid);
    if (up === null) break;
    if (up.ns['uts'] !== p.ns['uts']) return { pid, hostname: await hostnameIn(pid) };
    pid = up.status.ppid;
  }
  return { pid: 1, hostname: (await hostnameIn(1)) ?? hostHostname() };
}

/** The mount table a process sees, or null when it is gone. */
export async function mountsOf(pid: number): Promise<MountEntry[] | null> {
  const text = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => null);
  return text === null ? null : parseMountinfo(text);
}

/** The PID namespace of the proc file system mounted at the container's /proc (its PID 1's), or null. */
export const procMountPidNs = (pid: number): Promise<string | null> => readlink(`/proc/${pid}/root/proc/1/ns/pid`).catch(() => null);

/** The uid (or gid) map of a process (`/proc/PID/uid_map`); null when it is gone. */
export async function idMapOf(pid: number, kind: 'uid' | 'gid' = 'uid'): Promise<IdMapping[] | null> {
  const text = await readFile(`/proc/${pid}/${kind}_map`, 'utf8').catch(() => null);
  return text === null ? null : parseIdMap(text);
}

/** The network interfaces a process sees (`/proc/PID/net/dev`); null when it is gone. */
export async function interfacesOf(pid: number): Promise<string[] | null> {
  const text = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => null);
  return text === null ? null : parseNetDev(text);
}

/** The System V message queues in a process's IPC namespace (read from inside it). */
export async function queuesIn(pid: number | 'host'): Promise<SysvQueue[] | null> {
  if (pid === 'host') return parseSysvMsg(await readFile('/proc/sysvipc/msg', 'utf8'));
  const r = await run('nsenter', ['-t', String(pid), '-i', 'cat', '/proc/sysvipc/msg'], { timeoutMs: 5000 });
  return r.code === 0 ? parseSysvMsg(r.stdout) : null;
}

/** Describes a process for a check's "actual": `PID 4711 (sleep)`. */
export const who = (p: NsProcess): string => `PID ${p.pid} (${p.status.name})`;
