// Tears down what takeInventory found, in the only order that works: processes hold mounts busy,
// mounts hold loop devices, and cgroups can be removed only once their processes are gone.
// Every action is logged as the command it amounts to; a failure is recorded and the rest goes on.
import { readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../checks/exec.ts';
import { readMountinfo, type MountEntry } from '../checks/mounts.ts';
import { pidsIn } from '../checks/cgroup.ts';
import { ancestors, isContainerUnder, isPathUnder, processPlaces } from '../checks/proc.ts';
import { readLoopDevices } from '../checks/loop.ts';
import type { ResidueItem } from './inventory.ts';
import { deleteNetns } from './lab.ts';
import { sleep } from '../checks/lang.ts';


/** Polls until `done` or the deadline; true when done. */
async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; ; await sleep(5)) {
    if (await done()) return true;
    if (Date.now() > end) return false;
  }
}

/** Gone, or a zombie: a killed child of ours stays one until it is reaped, and it holds nothing. */
async function processGone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null || /\) Z /.test(stat);
}

/** The mount point of the cgroup hierarchy that holds `dir` (v1: one per controller; v2: one). */
function hierarchyRoot(mounts: readonly MountEntry[], dir: string): string | undefined {
  return mounts
    .filter((m) => (m.fsType === 'cgroup' || m.fsType === 'cgroup2') && isPathUnder(dir, m.mountPoint) && dir !== m.mountPoint)
    .sort((x, y) => y.mountPoint.length - x.mountPoint.length)[0]?.mountPoint;
}

/** Sub-cgroups first: rmdir of a cgroup with children fails with EBUSY. */
async function cgroupTree(dir: string): Promise<string[]> {
  const subs = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory());
  const nested = await Promise.all(subs.map((d) => cgroupTree(path.join(dir, d.name))));
  return [...nested.flat(), dir];
}

/**
 * Removes the items, logging each command; returns what could not be done ("umount /x: target is
 * busy"), so that one stuck item never stops the others. Empty means every action succeeded.
 */
export async function cleanResidue(home: string, items: readonly ResidueItem[], log: (line: string) => void): Promise<string[]> {
  const errors: string[] = [];
  const of = (kind: ResidueItem['kind']): ResidueItem[] => items.filter((i) => i.kind === kind);
  const cmd = async (c: string, args: string[]): Promise<{ ok: boolean; stderr: string }> => {
    log([c, ...args].join(' '));
    const r = await run(c, args, { timeoutMs: 30_000 });
    return { ok: r.code === 0, stderr: r.stderr.trim() };
  };
  const failed = (what: string, why: string): void => {
    errors.push(`${what}: ${why}`);
    log(`  failed: ${why}`);
  };

  // 1. Processes: containers, whose / is in our places, or that live in a PID or UTS namespace
  // of their own with their cwd there. PIDs are reused, so check again that this one still is; a
  // process that only has its cwd there is the learner's and is spared, and so are this process
  // and its parents (`workshop clean` run from a shell inside).
  const places = [path.resolve(home), ...of('mount').map((m) => m.id).filter((p) => p !== '/'), ...of('tmpdir').map((t) => t.id)];
  const self = await ancestors();
  const now = new Map((await processPlaces()).map((p) => [p.pid, p]));
  for (const item of of('process')) {
    const pid = Number(item.id);
    const place = now.get(pid);
    if (self.has(pid) || place === undefined || !isContainerUnder(place, places)) continue;
    log(`kill -KILL ${pid}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'ESRCH')) failed(`kill ${pid}`, String(err));
    }
    if (!(await waitFor(() => processGone(pid), 5000))) failed(`kill ${pid}`, 'still running after 5 s');
  }

  // 2. Mounts, deepest first (the inventory's order); lazily when something still holds one.
  const mounts = of('mount').map((m, i) => ({ m, i }));
  mounts.sort((a, b) => b.m.id.split('/').length - a.m.id.split('/').length || a.i - b.i);
  for (const { m } of mounts) {
    const r = await cmd('umount', [m.id]);
    if (r.ok) continue;
    log(`  ${r.stderr}; detaching it lazily`);
    const lazy = await cmd('umount', ['-l', m.id]);
    if (!lazy.ok) failed(`umount ${m.id}`, lazy.stderr);
  }

  // 3. Loop devices. One with autoclear has already gone with its last mount.
  if (of('loop').length > 0) {
    const attached = new Set((await readLoopDevices()).map((l) => l.name));
    for (const loop of of('loop').filter((l) => attached.has(l.id))) {
      const r = await cmd('losetup', ['-d', loop.id]);
      if (!r.ok) failed(`losetup -d ${loop.id}`, r.stderr);
    }
  }

  // 4. Links. Deleting one end of a veth deletes the other, so a missing peer is fine.
  for (const link of of('link')) {
    const r = await cmd('ip', ['link', 'del', link.id]);
    if (r.ok) continue;
    if (/Cannot find device/.test(r.stderr)) log('  already gone with its peer');
    else failed(`ip link del ${link.id}`, r.stderr);
  }

  // 5. Namespaces, and the veth ends that go with them (deleteNetns waits for the kernel).
  for (const ns of of('netns')) {
    try {
      await deleteNetns([ns.id], log);
    } catch (err) {
      failed(`ip netns del ${ns.id}`, err instanceof Error ? err.message : String(err));
    }
  }

  // 6. Cgroups: the processes rooted in the workspace were killed above; any other is moved out.
  const mountsNow = of('cgroup').length > 0 ? await readMountinfo('self') : [];
  for (const cg of of('cgroup')) {
    for (const dir of await cgroupTree(cg.id)) {
      // A process still inside (one clean may not kill: its root is the host's, only its cwd is
      // ours) is moved to the hierarchy's root, which harms nothing and frees the cgroup.
      const root = hierarchyRoot(mountsNow, dir);
      const procs = root === undefined ? undefined : path.join(root, 'cgroup.procs');
      if (procs !== undefined) {
        for (const pid of await pidsIn(dir)) {
          log(`echo ${pid} > ${procs}`);
          await writeFile(procs, `${pid}\n`).catch((err: unknown) => failed(`move ${pid} out of ${dir}`, err instanceof Error ? err.message : String(err)));
        }
      }
      log(`rmdir ${dir}`);
      await rmdir(dir).catch((err: unknown) => failed(`rmdir ${dir}`, err instanceof Error ? err.message : String(err)));
    }
  }

  // 7. container.sh's /tmp folders, only once nothing is mounted in them: rm would otherwise
  // reach into a bind mount. --one-file-system is the second guard.
  if (of('tmpdir').length > 0) {
    const left = await readMountinfo('self');
    for (const t of of('tmpdir')) {
      const busy = left.find((m) => isPathUnder(m.mountPoint, t.id));
      if (busy !== undefined) {
        failed(`rm -rf ${t.id}`, `${busy.mountPoint} is still mounted`);
        continue;
      }
      const r = await cmd('rm', ['-rf', '--one-file-system', t.id]);
      if (!r.ok) failed(`rm -rf ${t.id}`, r.stderr);
    }
  }

  return errors;
}
