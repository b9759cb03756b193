// What `workshop record` compares: the kernel objects the tool may touch, read before and after
// the recorded shell with the probes that `workshop state` and the checks use (mountinfo with
// overlay layers, losetup, btrfs subvolume list/show, ip -j, iptables-save), and the files of
// the chapter folder, cgroups with their limits. Only what lies in the chapter folder, the /tmp
// entries, and the network namespaces and cgroups of the `ws` prefix is read: never the machine's own.
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseSubvolumeList, showSubvolume } from '../../checks/btrfs.ts';
import { canonicalRule, readNatTable } from '../../checks/iptables.ts';
import { readLoopDevices } from '../../checks/loop.ts';
import { isReadOnly, readMountinfo, type MountEntry } from '../../checks/mounts.ts';
import { cidrOf, netnsNames, netnsUsable, readAddrs, readLinks, readRoutes } from '../../checks/networking.ts';
import { parseOverlayOptions, resolveLayers } from '../../checks/overlayfs.ts';
import { processesFrom } from '../../checks/proc-objects.ts';
import { isPathUnder } from '../../checks/proc.ts';
import { runOk } from '../../sys/exec.ts';

/** A mount in scope; an overlay's layers are absolute. */
export interface MountObj {
  mountPoint: string;
  fsType: string;
  source: string;
  readOnly: boolean;
  overlay?: { lowerdirs: string[]; upperdir: string | null; workdir: string | null };
}
export interface SubvolObj {
  /** the btrfs mount point it lives under (absolute) */
  store: string;
  /** relative to the store */
  path: string;
  readOnly: boolean;
}
export interface LoopObj {
  name: string;
  backFile: string;
}
export interface LinkObj {
  ns: string;
  ifname: string;
  kind: string | null;
  master: string | null;
  up: boolean;
}
export interface AddrObj {
  ns: string;
  ifname: string;
  cidr: string;
}
export interface RouteObj {
  ns: string;
  dst: string;
  gateway: string;
}
export interface RuleObj {
  ns: string;
  /** iptables-save's canonical form, `-A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE` */
  rule: string;
}
export interface FileObj {
  /** relative to the chapter folder */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
}
/** A cgroup of the `ws` prefix, with the limits that are set (not `max`, not v1's unlimited). */
export interface CgroupObj {
  /** absolute: /sys/fs/cgroup/pids/ws-demo (v1) or /sys/fs/cgroup/ws-demo (v2) */
  path: string;
  limits: Record<string, string>;
  /** how many processes it holds */
  members: number;
}
/** A process started from the chapter folder (a shell excepted), by its name and own namespaces. */
export interface ProcObj {
  name: string;
  ownNamespaces: string[];
}
export interface TmpObj {
  /** absolute: /tmp/NAME */
  path: string;
  /** the names inside it, sorted */
  children: string[];
}

/** The objects in scope at one moment. Arrays are sorted, so that equal states give equal JSON. */
export interface KernelSnapshot {
  dir: string;
  mounts: MountObj[];
  loops: LoopObj[];
  subvolumes: SubvolObj[];
  netns: string[];
  links: LinkObj[];
  addrs: AddrObj[];
  routes: RouteObj[];
  rules: RuleObj[];
  files: FileObj[];
  tmp: TmpObj[];
  /** absent in snapshots taken before cgroups were compared */
  cgroups?: CgroupObj[];
  /** absent in snapshots taken before processes were compared */
  processes?: ProcObj[];
}

/** Shells are the recording's own (or the author's), never the step's background process. */
const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh']);

/** The limit files worth a check, v1 and v2. */
export const LIMIT_FILES = ['pids.max', 'memory.max', 'memory.swap.max', 'memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'cpu.max', 'cpu.cfs_quota_us'] as const;
/** What a limit reads when it is not set: v2's `max`, v1's PAGE_COUNTER_MAX and -1. */
export const unset = (v: string): boolean => v === 'max' || v === '-1' || v === '9223372036854771712' || v.startsWith('max ');

/** The namespaces the tool may touch: the `ws` prefix (the lab, the learner's ws-box). */
export const inScopeNetns = (name: string): boolean => name.startsWith('ws-');

/** A mount belongs to the chapter when its point, its source or one of its layers is in the chapter folder. Pure. */
export function mountInScope(m: MountEntry, dir: string): MountObj | null {
  const layers = m.fsType === 'overlay' ? resolveLayers(parseOverlayOptions(m.superOptions), dir) : undefined;
  const paths = [m.mountPoint, m.source, ...(layers ? [...layers.lowerdirs, layers.upperdir ?? '', layers.workdir ?? ''] : [])];
  if (!paths.some((p) => p !== '' && isPathUnder(p, dir))) return null;
  const obj: MountObj = { mountPoint: m.mountPoint, fsType: m.fsType, source: m.source, readOnly: isReadOnly(m) };
  if (layers) obj.overlay = { lowerdirs: layers.lowerdirs, upperdir: layers.upperdir ?? null, workdir: layers.workdir ?? null };
  return obj;
}

/** The files of the chapter folder, without crossing into mounts (a store's files are its subvolumes). */
async function filesUnder(dir: string): Promise<FileObj[]> {
  const top = await lstat(dir).catch(() => null);
  if (top === null) return [];
  const out: FileObj[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d).catch(() => [] as string[])).sort()) {
      const p = join(d, name);
      const st = await lstat(p).catch(() => null);
      if (st === null) continue;
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      out.push({ path: relative(dir, p), type });
      if (type === 'dir' && st.dev === top.dev) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

async function tmpEntries(): Promise<TmpObj[]> {
  const names = (await readdir('/tmp').catch(() => [] as string[])).sort();
  const out: TmpObj[] = [];
  for (const n of names) {
    const p = join('/tmp', n);
    if (!(await lstat(p).catch(() => null))?.isDirectory()) continue;
    out.push({ path: p, children: (await readdir(p).catch(() => [] as string[])).sort() });
  }
  return out;
}

/** The `ws` cgroups under each v1 controller folder, or at the top of a v2 hierarchy. */
async function cgroupsIn(root = '/sys/fs/cgroup'): Promise<CgroupObj[]> {
  const v2 = (await lstat(join(root, 'cgroup.controllers')).catch(() => null)) !== null;
  const parents = v2 ? [root] : (await readdir(root).catch(() => [] as string[])).map((n) => join(root, n));
  const dirs = (await Promise.all(parents.map(async (p) => (await readdir(p).catch(() => [] as string[])).filter((n) => n.startsWith('ws-')).map((n) => join(p, n))))).flat().sort();
  return Promise.all(
    dirs.map(async (path) => {
      const limits: Record<string, string> = {};
      for (const f of LIMIT_FILES) {
        const v = (await readFile(join(path, f), 'utf8').catch(() => null))?.trim();
        if (v !== undefined && !unset(v)) limits[f] = v;
      }
      const procs = (await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '');
      return { path, limits, members: procs.length };
    }),
  );
}

async function subvolumesOf(store: string): Promise<SubvolObj[]> {
  const list = parseSubvolumeList(await runOk('btrfs', ['subvolume', 'list', store], { timeoutMs: 10_000 }).catch(() => ''));
  return Promise.all(list.map(async (e) => ({ store, path: e.path, readOnly: (await showSubvolume(join(store, e.path)).catch(() => null))?.readOnly ?? false })));
}

/** Links, addresses, routes with a gateway, and NAT rules of one namespace. */
async function netnsObjects(ns: string): Promise<Pick<KernelSnapshot, 'links' | 'addrs' | 'routes' | 'rules'>> {
  if (!(await netnsUsable(ns))) return { links: [], addrs: [], routes: [], rules: [] };
  const [links, addrs, routes, nat] = await Promise.all([readLinks(ns), readAddrs(ns), readRoutes(ns), readNatTable(ns).catch(() => ({ rules: [] }))]);
  return {
    links: links.map((l) => ({ ns, ifname: l.ifname, kind: l.kind, master: l.master, up: l.up })),
    addrs: addrs.flatMap((a) => a.addrs.filter((x) => x.family === 'inet').map((x) => ({ ns, ifname: a.ifname, cidr: cidrOf(x) }))),
    // a route without a gateway comes with an address (proto kernel): the address is the object
    routes: routes.flatMap((r) => (r.gateway === null ? [] : [{ ns, dst: r.dst, gateway: r.gateway }])),
    rules: nat.rules.map((r) => ({ ns, rule: canonicalRule(r) })),
  };
}

/** Reads every object in scope for the chapter folder `dir`. */
export async function takeSnapshot(dir: string): Promise<KernelSnapshot> {
  const [table, loops, names, files, tmp, cgroups, procs] = await Promise.all([readMountinfo(), readLoopDevices(), netnsNames(), filesUnder(dir), tmpEntries(), cgroupsIn(), processesFrom(dir)]);
  const processes = [...new Map(procs.filter((p) => !SHELLS.has(p.name)).map((p) => [`${p.name}/${p.ownNamespaces.join(',')}`, { name: p.name, ownNamespaces: p.ownNamespaces }])).values()];
  const mounts = table.flatMap((m) => mountInScope(m, dir) ?? []);
  const stores = mounts.filter((m) => m.fsType === 'btrfs').map((m) => m.mountPoint);
  const netns = names.filter(inScopeNetns).sort();
  const per = await Promise.all(netns.map(netnsObjects));
  return {
    dir,
    mounts,
    loops: loops.flatMap((l) => (l.backFile !== null && isPathUnder(l.backFile, dir) ? [{ name: l.name, backFile: l.backFile }] : [])),
    subvolumes: (await Promise.all(stores.map(subvolumesOf))).flat(),
    netns,
    links: per.flatMap((p) => p.links),
    addrs: per.flatMap((p) => p.addrs),
    routes: per.flatMap((p) => p.routes),
    rules: per.flatMap((p) => p.rules),
    files,
    tmp,
    cgroups,
    processes,
  };
}
