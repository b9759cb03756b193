// cgroups, read from their files. Two layouts exist and both are supported:
//  - v1 (and the "hybrid" layout of this build machine): one hierarchy per controller, so the
//    group `ws-demo` is two folders, /sys/fs/cgroup/pids/ws-demo and /sys/fs/cgroup/memory/ws-demo;
//  - v2 (the Debian 13 VM): one tree, /sys/fs/cgroup/ws-demo, with pids.max and memory.max.
// Every check says which one it found.
import { readFile, statfs } from 'node:fs/promises';
import path from 'node:path';

/** Where the cgroup file systems are mounted (v1: one hierarchy per controller below it; v2: the unified tree itself). */
export const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_MAGIC = 0x63677270;

/** cgroup v1 (one hierarchy per controller) or v2 (one unified tree). */
export type CgroupVersion = 'v1' | 'v2';
/** The controllers the chapters limit. */
export type Controller = 'pids' | 'memory';

/** Where each controller's files of one group live, and in which layout. */
export interface CgroupLayout {
  version: CgroupVersion;
  /** `pids` → /sys/fs/cgroup/pids/ws-demo (v1) or /sys/fs/cgroup/ws-demo (v2) */
  dir(controller: Controller, group: string): string;
  /** the files that hold the limits and the proofs, by layout */
  files: {
    pidsMax: string;
    pidsEvents: string;
    memoryMax: string;
    /** v1: memory.oom_control (has `oom_kill N` since Linux 4.13); v2: memory.events */
    memoryEvents: string;
  };
}

/** Pure: the layout for a cgroup version, under `root`. */
export function layoutFor(version: CgroupVersion, root = CGROUP_ROOT): CgroupLayout {
  return version === 'v2'
    ? {
        version,
        dir: (_c, group) => path.join(root, group),
        files: { pidsMax: 'pids.max', pidsEvents: 'pids.events', memoryMax: 'memory.max', memoryEvents: 'memory.events' },
      }
    : {
        version,
        dir: (c, group) => path.join(root, c, group),
        files: { pidsMax: 'pids.max', pidsEvents: 'pids.events', memoryMax: 'memory.limit_in_bytes', memoryEvents: 'memory.oom_control' },
      };
}

/** v2 when /sys/fs/cgroup itself is a cgroup2 mount (the unified layout); v1 or hybrid otherwise. */
export async function detectLayout(root = CGROUP_ROOT): Promise<CgroupLayout> {
  const fs = await statfs(root);
  return layoutFor(fs.type === CGROUP2_MAGIC ? 'v2' : 'v1', root);
}

/** The layout in words, for messages. */
export const describeLayout = (l: CgroupLayout): string =>
  l.version === 'v2' ? 'cgroup v2 (one unified tree)' : 'cgroup v1 (one hierarchy per controller)';

/**
 * Flat-keyed cgroup files: `key value` per line (pids.events, memory.events, memory.oom_control,
 * memory.stat). Values stay strings: `max` in pids.max, big numbers in memory.stat.
 */
export function parseFlatKeyed(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s*$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], m[2]);
  }
  return out;
}

/** A single-value limit file: `20`, `max` (v2 and v1 pids) or 9223372036854771712 (v1 memory's "no limit"). */
export function parseLimit(text: string): number | 'max' {
  const t = text.trim();
  if (t === 'max') return 'max';
  if (!/^\d+$/.test(t)) throw new Error(`a cgroup limit file should hold a number or "max", not: ${t}`);
  const n = Number(t);
  // v1 memory prints PAGE_COUNTER_MAX rounded to the page size when no limit is set.
  return n >= 2 ** 62 ? 'max' : n;
}

/** One line of `/proc/PID/cgroup`: hierarchy id, controllers and path. */
export interface ProcCgroupLine {
  /** hierarchy id; 0 for the v2 tree */
  id: number;
  /** controllers bound to it (`['pids']`, `['cpu', 'cpuacct']`), empty for v2, `name=systemd` kept */
  controllers: string[];
  path: string;
}

/** Parses /proc/PID/cgroup: `8:pids:/ws-demo`, `0::/ws-demo`. */
export function parseProcCgroup(text: string): ProcCgroupLine[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\d+):([^:]*):(.*)$/.exec(l);
      if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) throw new Error(`/proc/PID/cgroup: bad line: ${l}`);
      return { id: Number(m[1]), controllers: m[2] === '' ? [] : m[2].split(','), path: m[3] };
    });
}

/** The process's cgroup path for a controller in the given layout, or null when it has none. Pure. */
export function cgroupPathOf(lines: readonly ProcCgroupLine[], controller: Controller, version: CgroupVersion): string | null {
  const line = version === 'v2' ? lines.find((l) => l.id === 0) : lines.find((l) => l.controllers.includes(controller));
  return line?.path ?? null;
}

/** The cgroup path (as /proc/PID/cgroup shows it) of a group folder, e.g. `/ws-demo`. */
export function groupPath(layout: CgroupLayout, controller: Controller, dir: string): string {
  const base = layout.version === 'v2' ? CGROUP_ROOT : path.join(CGROUP_ROOT, controller);
  return `/${path.relative(base, dir)}`;
}

/** One file of a cgroup (`pids.max`, `memory.events` …); null when it does not exist. */
export const readCgroupFile = (dir: string, file: string): Promise<string | null> => readFile(path.join(dir, file), 'utf8').catch(() => null);

/** PIDs in a group (its cgroup.procs), empty when it does not exist. */
export async function pidsIn(dir: string): Promise<number[]> {
  const text = await readCgroupFile(dir, 'cgroup.procs');
  return (text ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** The cgroups of a process (`/proc/PID/cgroup`, parsed); null when the process is gone. */
export async function cgroupsOf(pid: number): Promise<ProcCgroupLine[] | null> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => null);
  return text === null ? null : parseProcCgroup(text);
}

/** v2 only: the controllers a group can use (its cgroup.controllers). */
export async function controllersOf(dir: string): Promise<string[]> {
  return ((await readCgroupFile(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter((c) => c !== '');
}

/** One mebibyte, for memory limits. */
export const MIB = 1024 * 1024;
