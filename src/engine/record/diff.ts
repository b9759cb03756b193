// The difference between two snapshots (snapshot.ts): the objects that appeared, and those whose
// parameters changed, each with its kind. Pure, and tested on snapshots recorded on this machine.
import { isPathUnder } from '../../checks/proc.ts';
import type { AddrObj, CgroupObj, FileObj, ProcObj, KernelSnapshot, LinkObj, LoopObj, MountObj, RouteObj, RuleObj, SubvolObj, TmpObj } from './snapshot.ts';

/** One object the recorded commands made (`new`) or changed (`changed`: same identity, other parameters). */
export type Change =
  | { kind: 'mount'; change: 'new' | 'changed'; obj: MountObj }
  | { kind: 'loop'; change: 'new' | 'changed'; obj: LoopObj }
  | { kind: 'subvolume'; change: 'new' | 'changed'; obj: SubvolObj }
  | { kind: 'netns'; change: 'new' | 'changed'; obj: { name: string } }
  | { kind: 'link'; change: 'new' | 'changed'; obj: LinkObj }
  | { kind: 'addr'; change: 'new' | 'changed'; obj: AddrObj }
  | { kind: 'route'; change: 'new' | 'changed'; obj: RouteObj }
  | { kind: 'rule'; change: 'new' | 'changed'; obj: RuleObj }
  | { kind: 'file'; change: 'new' | 'changed'; obj: FileObj }
  | { kind: 'cgroup'; change: 'new' | 'changed'; obj: CgroupObj }
  | { kind: 'process'; change: 'new' | 'changed'; obj: ProcObj }
  | { kind: 'tmp'; change: 'new' | 'changed'; obj: TmpObj };

export type ChangeKind = Change['kind'];

/** New and changed objects of one list, by identity; `same` compares the parameters. */
function changesOf<T>(before: readonly T[], after: readonly T[], key: (x: T) => string): Array<{ change: 'new' | 'changed'; obj: T }> {
  const was = new Map(before.map((x) => [key(x), JSON.stringify(x)]));
  return after.flatMap((obj): Array<{ change: 'new' | 'changed'; obj: T }> => {
    const old = was.get(key(obj));
    if (old === undefined) return [{ change: 'new', obj }];
    return old === JSON.stringify(obj) ? [] : [{ change: 'changed', obj }];
  });
}

/** How many files inside new folders get a check of their own (a rootfs has hundreds). */
export const NESTED_FILES = 8;

/**
 * The files worth a check: the top-most new paths (a new folder, not every folder in it), the
 * first NESTED_FILES regular files inside new folders (what the step wrote), and none that is a
 * mount point or lies inside a new mount (the mount's own check covers it). Pure.
 */
export function topNewFiles(before: readonly FileObj[], after: readonly FileObj[], dir: string, mounts: readonly MountObj[]): FileObj[] {
  const old = new Set(before.map((f) => f.path));
  const points = mounts.map((m) => m.mountPoint);
  const fresh = after.filter((f) => !old.has(f.path) && !points.some((p) => isPathUnder(`${dir}/${f.path}`, p) || isPathUnder(p, `${dir}/${f.path}`)));
  const freshDirs = new Set(fresh.filter((f) => f.type === 'dir').map((f) => f.path));
  const inFreshDir = (f: FileObj): boolean => {
    const parts = f.path.split('/');
    return parts.slice(0, -1).some((_, i) => freshDirs.has(parts.slice(0, i + 1).join('/')));
  };
  const nested = fresh.filter((f) => f.type === 'file' && inFreshDir(f)).slice(0, NESTED_FILES);
  return fresh.filter((f) => !inFreshDir(f) || nested.includes(f));
}

/** Everything the recorded commands made or changed, in the order a cleanup undoes last: netns, links, addresses, … mounts, files. */
export function diffSnapshots(before: KernelSnapshot, after: KernelSnapshot): Change[] {
  const newMounts = changesOf(before.mounts, after.mounts, (m) => m.mountPoint);
  const netns = changesOf(before.netns.map((name) => ({ name })), after.netns.map((name) => ({ name })), (n) => n.name);
  // the links and addresses of a new namespace are new with it; its lo is made by the kernel
  const fromNewNs = new Set(netns.map((n) => n.obj.name));
  // a new folder in /tmp is the step's only when it holds a new mount or a layer of one (the seed's
  // /tmp/$nonce): another program's folder, made meanwhile, is never the draft's to remove
  const used = newMounts.filter((c) => c.change === 'new').flatMap((c) => [c.obj.mountPoint, ...(c.obj.overlay ? [...c.obj.overlay.lowerdirs, c.obj.overlay.upperdir ?? '', c.obj.overlay.workdir ?? ''] : [])]);
  const holds = (tmp: string): boolean => used.some((p) => p !== '' && isPathUnder(p, tmp));
  return [
    ...netns.map((c) => ({ kind: 'netns' as const, ...c })),
    ...changesOf(before.links, after.links, (l) => `${l.ns}/${l.ifname}`).filter((c) => !(c.obj.ifname === 'lo' && fromNewNs.has(c.obj.ns))).map((c) => ({ kind: 'link' as const, ...c })),
    ...changesOf(before.addrs, after.addrs, (a) => `${a.ns}/${a.ifname}/${a.cidr}`).map((c) => ({ kind: 'addr' as const, ...c })),
    ...changesOf(before.routes, after.routes, (r) => `${r.ns}/${r.dst}`).map((c) => ({ kind: 'route' as const, ...c })),
    ...changesOf(before.rules, after.rules, (r) => `${r.ns}/${r.rule}`).map((c) => ({ kind: 'rule' as const, ...c })),
    ...changesOf(before.loops, after.loops, (l) => l.name).map((c) => ({ kind: 'loop' as const, ...c })),
    ...newMounts.map((c) => ({ kind: 'mount' as const, ...c })),
    ...changesOf(before.subvolumes, after.subvolumes, (s) => `${s.store}/${s.path}`).map((c) => ({ kind: 'subvolume' as const, ...c })),
    // a cgroup's member count changes as its processes come and go: its identity and limits are what count
    ...changesOf(before.cgroups ?? [], after.cgroups ?? [], (g) => g.path).filter((c) => c.change === 'new' || JSON.stringify(c.obj.limits) !== JSON.stringify(before.cgroups?.find((g) => g.path === c.obj.path)?.limits)).map((c) => ({ kind: 'cgroup' as const, ...c })),
    ...changesOf(before.processes ?? [], after.processes ?? [], (p) => `${p.name}/${p.ownNamespaces.join(',')}`).map((c) => ({ kind: 'process' as const, ...c })),
    ...topNewFiles(before.files, after.files, after.dir, after.mounts).map((obj) => ({ kind: 'file' as const, change: 'new' as const, obj })),
    ...changesOf(before.tmp, after.tmp, (t) => t.path).filter((c) => c.change === 'new' && holds(c.obj.path)).map((c) => ({ kind: 'tmp' as const, ...c })),
  ];
}
