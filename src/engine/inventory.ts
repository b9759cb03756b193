// The residue inventory: what the workshop, or the learner working through it, left on the
// machine. It is discovered from the kernel every time, never read from a log. Deciding what is
// ours (decideResidue) is pure; takeInventory only gathers the facts it needs.
import { readdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { runOk } from '../sys/exec.ts';
import { readMountinfo, type MountEntry } from '../checks/mounts.ts';
import { parseOverlayOptions } from '../checks/overlayfs.ts';
import { ancestors, isContainerUnder, isPathUnder, processGroup, processPlaces, readStatus, type ProcessPlace } from '../checks/proc.ts';
import { readLoopDevices, type LoopDevice } from '../checks/loop.ts';
import { readLinks, readNetns, type IpLink, type NetnsEntry } from '../checks/networking.ts';
import { isRecord } from '../sys/lang.ts';
import { SYSTEM_DIRS, workspace } from './workspace.ts';


export type ResidueItem = {
  kind: 'mount' | 'loop' | 'netns' | 'link' | 'cgroup' | 'process' | 'tmpdir';
  /** stable across inventories: a mount point, a device, a name, a path or a PID */
  id: string;
  detail: string;
};

/** What clean removes, one kind of kernel object each; engine/families.ts says which family leaves which. */
export type ResidueKind = ResidueItem['kind'];

/** Lab resources are named ws-host, ws-net, ws-veth…: the `ws` prefix marks them as ours. */
export const isWsName = (name: string): boolean => name.startsWith('ws');

export interface InventoryFacts {
  home: string;
  /** `${home}/chapters/*`: where a learner's relative overlay layers were typed from */
  chapterDirs: readonly string[];
  mounts: readonly MountEntry[];
  loops: readonly LoopDevice[];
  netns: readonly NetnsEntry[];
  links: readonly IpLink[];
  cgroups: readonly string[];
  /** /tmp/<x> folders with the seed container.sh's shape */
  seedTmpDirs: readonly string[];
  /** which candidates from relativeLayerCandidates exist on disk */
  existingPaths: ReadonlySet<string>;
  processes: readonly ProcessPlace[];
}

const bases = (f: Pick<InventoryFacts, 'home' | 'chapterDirs'>): string[] => [f.home, ...f.chapterDirs];

/**
 * Pure: a path that clean must never unmount, kill in or remove, whatever an inventory says: `/`,
 * a system folder or one that holds one, the home or one that holds it, the workshop's own
 * folders themselves (only what is inside them is residue), and the kernel's own trees.
 */
export function isProtectedPath(p: string, home: string): boolean {
  const abs = path.resolve(p);
  if (abs === '/' || isPathUnder(home, abs)) return true;
  if (SYSTEM_DIRS.some((d) => isPathUnder(d, abs))) return true;
  if (['/proc', '/sys', '/dev'].some((d) => isPathUnder(abs, d))) return true;
  return workspace(home).ownedDirs.includes(abs);
}

/** Pure: p lies strictly inside one of the workshop's folders of the home (chapters/, selftest/, …). */
export const inOwnedDir = (p: string, home: string): boolean => workspace(home).ownedDirs.some((d) => p !== d && isPathUnder(p, d));

function overlayLayers(m: MountEntry): string[] {
  if (m.fsType !== 'overlay') return [];
  const l = parseOverlayOptions(m.superOptions);
  return [...l.lowerdirs, ...l.datadirs, ...(l.upperdir === undefined ? [] : [l.upperdir]), ...(l.workdir === undefined ? [] : [l.workdir])];
}

/** Relative overlay layers resolved against each place the learner may have typed them from. */
export function relativeLayerCandidates(f: Pick<InventoryFacts, 'home' | 'chapterDirs' | 'mounts'>): string[] {
  const rel = f.mounts.flatMap(overlayLayers).filter((l) => !path.isAbsolute(l));
  return [...new Set(rel.flatMap((l) => bases(f).map((b) => path.resolve(b, l))))];
}

/** Where home lies inside its own file system, so that bind mounts of folders under it can be recognised. */
function homeInFs(mounts: readonly MountEntry[], home: string): { majorMinor: string; root: string } | null {
  const holder = mounts.filter((m) => isPathUnder(home, m.mountPoint)).sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
  if (holder === undefined) return null;
  return { majorMinor: holder.majorMinor, root: path.join(holder.root, path.relative(holder.mountPoint, home)) };
}

/**
 * Why a mount is ours, or null. "Under home" means inside the workshop's own folders of the home
 * (chapters/, selftest/, aswritten/, lab/): a mount elsewhere in the home, or a mount whose source
 * or layers lie elsewhere in it, is someone else's and is never touched.
 */
function mountReason(m: MountEntry, f: InventoryFacts, ourLoops: ReadonlySet<string>, bindOf: ReturnType<typeof homeInFs>): string | null {
  const under = (p: string): boolean => inOwnedDir(p, f.home);
  if (under(m.mountPoint)) return 'mounted under home';
  const tmp = f.seedTmpDirs.find((d) => isPathUnder(m.mountPoint, d));
  if (tmp !== undefined) return `mounted in ${tmp}`;
  if (path.isAbsolute(m.source) && under(m.source)) return 'its source is under home';
  if (ourLoops.has(m.source)) return `its source ${m.source} is backed by a file under home`;
  // A bind mount's source is the device; its `root` field says which folder of it is mounted.
  if (bindOf !== null && m.majorMinor === bindOf.majorMinor && m.root !== '/') {
    const inFs = (p: string): string => path.join(bindOf.root, path.relative(f.home, p));
    if (workspace(f.home).ownedDirs.some((d) => m.root !== inFs(d) && isPathUnder(m.root, inFs(d)))) return 'a bind mount of a folder under home';
  }
  for (const layer of overlayLayers(m)) {
    if (path.isAbsolute(layer)) {
      if (under(layer)) return `overlay layer ${layer} is under home`;
      const seed = /^\/tmp\/([^/]+)\/upper$/.exec(layer);
      if (seed !== null && f.seedTmpDirs.includes(`/tmp/${seed[1] ?? ''}`)) return `overlay upperdir ${layer} is container.sh's`;
    } else if (bases(f).some((b) => f.existingPaths.has(path.resolve(b, layer)) && under(path.resolve(b, layer)))) {
      return `overlay layer ${layer} resolves under home`;
    }
  }
  return null;
}

const depth = (p: string): number => (p === '/' ? 0 : p.split('/').length);

/** Pure: everything in the facts that is ours, in the order clean handles it. */
export function decideResidue(f: InventoryFacts): ResidueItem[] {
  const loops = f.loops.filter((l) => l.backFile !== null && inOwnedDir(l.backFile, f.home));
  const ourLoops = new Set(loops.map((l) => l.name));
  const bindOf = homeInFs(f.mounts, f.home);
  const ours = new Map<MountEntry, string>();
  for (const m of f.mounts) {
    const why = mountReason(m, f, ourLoops, bindOf);
    if (why !== null) ours.set(m, why);
  }
  // Mounts made later on top of one of ours (a proc in the container's rootfs) must go before
  // it. Only later ones: an older mount that ours merely covers is someone else's.
  const order = new Map(f.mounts.map((m, i) => [m, i]));
  const after = (m: MountEntry, o: MountEntry): boolean => (order.get(m) ?? 0) > (order.get(o) ?? 0);
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of f.mounts) {
      const top = [...ours.keys()].find((o) => o.mountPoint !== '/' && after(m, o) && isPathUnder(m.mountPoint, o.mountPoint));
      if (!ours.has(m) && top !== undefined) {
        ours.set(m, `mounted inside ${top.mountPoint}`);
        grew = true;
      }
    }
  }
  // Deepest first; at equal depth the later mount first, since it sits on top.
  const mounts = [...ours].sort(([a], [b]) => depth(b.mountPoint) - depth(a.mountPoint) || (order.get(b) ?? 0) - (order.get(a) ?? 0));
  const places = containerPlaces(f.home, f.seedTmpDirs, mounts.map(([m]) => m.mountPoint));
  return [
    // Only a container is stopped: a process whose / is ours, or one in a PID or UTS namespace of
    // its own started from here (an un-pivoted `unshare ... sleep`). One that merely has its cwd here
    // is the learner's shell (cd $(workshop path)), or `workshop clean | less`: see visitorsOf.
    ...f.processes.filter((p) => isContainerUnder(p, places)).map((p) => ({ kind: 'process' as const, id: String(p.pid), detail: `root ${p.root ?? '?'}, cwd ${p.cwd ?? '?'}` })),
    ...mounts.map(([m, why]) => ({ kind: 'mount' as const, id: m.mountPoint, detail: `${m.fsType} from ${m.source}: ${why}` })),
    ...loops.map((l) => ({ kind: 'loop' as const, id: l.name, detail: `backed by ${l.backFile ?? '?'}` })),
    ...f.links.filter((l) => isWsName(l.ifname)).map((l) => ({ kind: 'link' as const, id: l.ifname, detail: 'a link in the root network namespace' })),
    ...f.netns.filter((n) => isWsName(n.name)).map((n) => ({ kind: 'netns' as const, id: n.name, detail: 'a named network namespace' })),
    ...f.cgroups.map((c) => ({ kind: 'cgroup' as const, id: c, detail: 'a cgroup' })),
    ...f.seedTmpDirs.map((d) => ({ kind: 'tmpdir' as const, id: d, detail: 'upper, workdir and overlay left by container.sh' })),
  ];
}

/**
 * Pure: where a process must live to be one of ours: the workshop's folders of the home,
 * container.sh's /tmp folders, and our mount points, never a protected path (`/`, a system folder,
 * what holds the home). clean decides with it, and checks again with it before it kills.
 */
export const containerPlaces = (home: string, tmpDirs: readonly string[], mountPoints: readonly string[]): string[] => [
  ...workspace(home).ownedDirs,
  ...[...tmpDirs, ...mountPoints].filter((p) => !isProtectedPath(p, home)),
];

/** The places the residue occupies: the workshop's folders, container.sh's /tmp folders and our mount points. */
const placesOf = (home: string, items: readonly ResidueItem[]): string[] =>
  containerPlaces(home, items.filter((i) => i.kind === 'tmpdir').map((i) => i.id), items.filter((i) => i.kind === 'mount').map((i) => i.id));

/**
 * Pure: processes whose cwd (not their root) lies in one of the residue's places. They are the
 * learner's shells and pagers: clean names them and leaves them alone, and a mount they hold busy
 * is detached lazily.
 */
export function visitorsOf(home: string, items: readonly ResidueItem[], processes: readonly ProcessPlace[]): ProcessPlace[] {
  const places = placesOf(path.resolve(home), items);
  const killed = new Set(items.filter((i) => i.kind === 'process').map((i) => Number(i.id)));
  // A cwd whose folder was removed reads "PATH (deleted)": still that path.
  const cwdOf = (p: ProcessPlace): string | null => p.cwd?.replace(/ \(deleted\)$/, '') ?? null;
  return processes.filter((p) => {
    const cwd = cwdOf(p);
    return !killed.has(p.pid) && cwd !== null && places.some((d) => isPathUnder(cwd, d));
  });
}

export interface Visitor {
  pid: number;
  name: string;
  cwd: string;
}

/**
 * The processes of visitorsOf, with their names. The shell that runs `workshop clean` is one
 * (that is where learners type it); the rest of our own pipeline (`workshop clean | less`) is not
 * named, since it ends with us. A pipeline's commands are our siblings: the same parent (the
 * shell) and our process group. A script runs every command in one group, so a process of our
 * group with another parent (a background `sleep` that an earlier `workshop solve` left) is named.
 */
export async function findVisitors(home: string, items: readonly ResidueItem[]): Promise<Visitor[]> {
  const [places, parents, ourGroup] = await Promise.all([processPlaces(), ancestors(), processGroup(process.pid)]);
  const found = await Promise.all(
    visitorsOf(home, items, places).map(async (p) => {
      const [st, group] = await Promise.all([readStatus(p.pid).catch(() => null), processGroup(p.pid)]);
      const pipeline = ourGroup !== null && group === ourGroup && !parents.has(p.pid) && st?.ppid === process.ppid;
      return pipeline ? [] : [{ pid: p.pid, name: st?.name ?? '?', cwd: p.cwd ?? '?' }];
    }),
  );
  return found.flat();
}

const isDir = (p: string): Promise<boolean> => stat(p).then((s) => s.isDirectory(), () => false);
const subdirs = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name));

/** container.sh leaves /tmp/$nonce/{upper,workdir,overlay}, and overlayfs makes workdir/work. */
export async function findSeedTmpDirs(tmp = '/tmp'): Promise<string[]> {
  const found: string[] = [];
  for (const d of await subdirs(tmp)) {
    const shape = await Promise.all(['upper', 'workdir', 'overlay', 'workdir/work'].map((s) => isDir(path.join(d, s))));
    if (shape.every(Boolean)) found.push(d);
  }
  return found;
}

const CGROUP_MAGIC = new Set([0x27e0eb, 0x63677270]); // cgroup v1, cgroup2

/**
 * ws* cgroups at the top of each hierarchy: /sys/fs/cgroup/ws* (unified layout) and
 * /sys/fs/cgroup/CTRL/ws* (v1 and hybrid, where /sys/fs/cgroup/unified is the v2 tree).
 * Names with a dot are systemd units (wsdd.service), never ours.
 */
export async function findWsCgroups(base = '/sys/fs/cgroup', fsType: (dir: string) => Promise<number> = async (dir) => (await statfs(dir)).type): Promise<string[]> {
  const top = await subdirs(base);
  const candidates = [...top, ...(await Promise.all(top.map(subdirs))).flat()].filter((p) => {
    const name = path.basename(p);
    return isWsName(name) && !name.includes('.');
  });
  const found: string[] = [];
  // a group removed since it was listed (a chapter's cleanup, beside this one in a parallel
  // self-test) is not there: it made the whole inventory throw, and the chapter fail (issue 26)
  for (const c of candidates) if (CGROUP_MAGIC.has(await fsType(c).catch(() => -1))) found.push(c);
  return found.sort();
}


export async function takeInventory(home: string): Promise<ResidueItem[]> {
  const abs = path.resolve(home);
  const chapterDirs = await subdirs(workspace(abs).chaptersDir);
  const [mounts, losetup, netns, links, cgroups, seedTmpDirs, places, skip] = await Promise.all([
    readMountinfo('self'),
    readLoopDevices(),
    readNetns(),
    readLinks(),
    findWsCgroups(),
    findSeedTmpDirs(),
    processPlaces(),
    ancestors(),
  ]);
  const candidates = relativeLayerCandidates({ home: abs, chapterDirs, mounts });
  const exists = await Promise.all(candidates.map((c) => stat(c).then(() => true, () => false)));
  const items = decideResidue({
    home: abs,
    chapterDirs,
    mounts,
    loops: losetup,
    netns,
    links,
    cgroups,
    seedTmpDirs,
    existingPaths: new Set(candidates.filter((_, i) => exists[i])),
    processes: places.filter((p) => !skip.has(p.pid)),
  });
  // The process name makes the inventory readable; a process that just exited keeps its item.
  return Promise.all(
    items.map(async (it) => {
      if (it.kind !== 'process') return it;
      const st = await readStatus(Number(it.id)).catch(() => null);
      return st === null ? it : { ...it, detail: `${st.name}: ${it.detail}` };
    }),
  );
}
