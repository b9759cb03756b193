// Tears down what takeInventory found, one remover per kind of residue (REMOVERS), in the only
// order that works: processes hold mounts busy, mounts hold loop devices, and cgroups can be
// removed only once their processes are gone.
// Every action is logged as the command it amounts to; a failure is recorded and the rest goes on.
import { readFile, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../sys/exec.ts';
import { readMountinfo, type MountEntry } from '../checks/mounts.ts';
import { pidsIn } from '../checks/cgroups.ts';
import { ancestors, isContainerUnder, isPathUnder, processPlaces } from '../checks/proc.ts';
import { readLoopDevices } from '../checks/loop.ts';
import { containerPlaces, isProtectedPath, isWsName, type ResidueItem, type ResidueKind } from './inventory.ts';
import { deleteNetns } from '../checks/lab.ts';
import type { Journey } from './journey.ts';
import { cleanupChapter, describeFailure } from './runner.ts';
import { sleep } from '../sys/lang.ts';


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

/** What a remover gets: the items that passed their refusal check, and a way to log and fail. */
interface CleanContext {
  home: string;
  log: (line: string) => void;
  /** records a failure and goes on */
  failed: (what: string, why: string) => void;
  /** runs a command, logged as typed */
  cmd: (c: string, args: string[]) => Promise<{ ok: boolean; stderr: string }>;
  /** the items of a kind that clean may act on */
  of: (kind: ResidueKind) => ResidueItem[];
}

interface Remover {
  /**
   * Pure: why clean may not act on an item of this kind, checked again at the moment it acts,
   * whatever the inventory that handed it over says (defence in depth). Null when it may.
   */
  refuse: (id: string, home: string) => string | null;
  /** Removes the items of this kind, logging each command; a failure is recorded and the rest goes on. */
  remove: (items: readonly ResidueItem[], ctx: CleanContext) => Promise<void>;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One remover per kind of residue, in the only order that works (the order of the keys): processes
 * hold mounts busy, mounts hold loop devices, and cgroups can be removed only once their processes
 * are gone; the /tmp folders go last, once nothing is mounted in them. engine/families.ts says which
 * family leaves which kind.
 */
export const REMOVERS: { readonly [K in ResidueKind]: Remover } = {
  // Containers, whose / is in our places, or that live in a PID or UTS namespace of their own with
  // their cwd there. PIDs are reused, so check again that this one still is; a process that only
  // has its cwd there is the learner's and is spared, and so are this process and its parents
  // (`workshop clean` run from a shell inside). The places are the workshop's folders and the
  // mounts that passed their check, never the home as a whole.
  process: {
    refuse: (id) => (/^\d+$/.test(id) && Number(id) > 1 ? null : `${id} is not a process clean may stop`),
    remove: async (items, { home, log, failed, of }) => {
      const places = containerPlaces(path.resolve(home), of('tmpdir').map((t) => t.id), of('mount').map((m) => m.id));
      const self = await ancestors();
      const now = new Map((await processPlaces()).map((p) => [p.pid, p]));
      for (const item of items) {
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
    },
  },
  // Deepest first (the inventory's order); lazily when something still holds one.
  mount: {
    refuse: (id, home) => (isProtectedPath(id, home) ? `${id} is a protected path (the root, a system folder, or the home itself)` : null),
    remove: async (items, { log, failed, cmd }) => {
      const mounts = items.map((m, i) => ({ m, i }));
      mounts.sort((a, b) => b.m.id.split('/').length - a.m.id.split('/').length || a.i - b.i);
      for (const { m } of mounts) {
        const r = await cmd('umount', [m.id]);
        if (r.ok) continue;
        log(`  ${r.stderr}; detaching it lazily`);
        const lazy = await cmd('umount', ['-l', m.id]);
        if (!lazy.ok) failed(`umount ${m.id}`, lazy.stderr);
      }
    },
  },
  // One with autoclear has already gone with its last mount.
  loop: {
    refuse: (id) => (/^\/dev\/loop\d+$/.test(id) ? null : `${id} is not a loop device`),
    remove: async (items, { failed, cmd }) => {
      if (items.length === 0) return;
      const attached = new Set((await readLoopDevices()).map((l) => l.name));
      for (const loop of items.filter((l) => attached.has(l.id))) {
        const r = await cmd('losetup', ['-d', loop.id]);
        if (!r.ok) failed(`losetup -d ${loop.id}`, r.stderr);
      }
    },
  },
  // Deleting one end of a veth deletes the other, so a missing peer is fine.
  link: {
    refuse: (id) => (isWsName(id) ? null : `${id} does not carry the workshop's ws prefix`),
    remove: async (items, { log, failed, cmd }) => {
      for (const link of items) {
        const r = await cmd('ip', ['link', 'del', link.id]);
        if (r.ok) continue;
        if (/Cannot find device/.test(r.stderr)) log('  already gone with its peer');
        else failed(`ip link del ${link.id}`, r.stderr);
      }
    },
  },
  // And the veth ends that go with them (deleteNetns waits for the kernel).
  netns: {
    refuse: (id) => (isWsName(id) ? null : `${id} does not carry the workshop's ws prefix`),
    remove: async (items, { log, failed }) => {
      for (const ns of items) {
        try {
          await deleteNetns([ns.id], log);
        } catch (err) {
          failed(`ip netns del ${ns.id}`, errorText(err));
        }
      }
    },
  },
  // The processes rooted in the workspace were killed above; any other is moved out.
  cgroup: {
    refuse: (id) => (isPathUnder(id, '/sys/fs/cgroup') && id !== '/sys/fs/cgroup' && isWsName(path.basename(id)) ? null : `${id} is not a ws* cgroup`),
    remove: async (items, { log, failed }) => {
      const mountsNow = items.length > 0 ? await readMountinfo('self') : [];
      for (const cg of items) {
        for (const dir of await cgroupTree(cg.id)) {
          // A process still inside (one clean may not kill: its root is the host's, only its cwd is
          // ours) is moved to the hierarchy's root, which harms nothing and frees the cgroup.
          const root = hierarchyRoot(mountsNow, dir);
          const procs = root === undefined ? undefined : path.join(root, 'cgroup.procs');
          if (procs !== undefined) {
            for (const pid of await pidsIn(dir)) {
              log(`echo ${pid} > ${procs}`);
              await writeFile(procs, `${pid}\n`).catch((err: unknown) => failed(`move ${pid} out of ${dir}`, errorText(err)));
            }
          }
          log(`rmdir ${dir}`);
          await rmdir(dir).catch((err: unknown) => failed(`rmdir ${dir}`, errorText(err)));
        }
      }
    },
  },
  // container.sh's /tmp folders, only once nothing is mounted in them: rm would otherwise reach
  // into a bind mount.
  tmpdir: {
    refuse: (id, home) => (/^\/tmp\/[^/]+$/.test(id) && !isProtectedPath(id, home) ? null : `${id} is not a folder directly in /tmp`),
    remove: async (items, { log, failed }) => {
      for (const t of items) {
        const why = await removeTree(t.id, log);
        if (why !== null) failed(`rm -rf ${t.id}`, why);
      }
    },
  },
};

/**
 * Pure: whether clean may act on an item, checked again at the moment it acts: a mount point that
 * is protected (`/`, a system folder, the home or what holds it), a loop that is not /dev/loopN, a
 * link, namespace or cgroup without the ws prefix, a /tmp folder that is not directly in /tmp.
 * Null when it may.
 */
export const refusal = (item: ResidueItem, home: string): string | null => REMOVERS[item.kind].refuse(item.id, home);

/**
 * Removes the items, logging each command; returns what could not be done ("umount /x: target is
 * busy"), so that one stuck item never stops the others. Empty means every action succeeded.
 */
export async function cleanResidue(home: string, given: readonly ResidueItem[], log: (line: string) => void): Promise<string[]> {
  const errors: string[] = [];
  const failed = (what: string, why: string): void => {
    errors.push(`${what}: ${why}`);
    log(`  failed: ${why}`);
  };
  const items = given.filter((i) => {
    const why = refusal(i, home);
    if (why !== null) failed(`${i.kind} ${i.id}`, `refused: ${why}`);
    return why === null;
  });
  const of = (kind: ResidueKind): ResidueItem[] => items.filter((i) => i.kind === kind);
  const cmd = async (c: string, args: string[]): Promise<{ ok: boolean; stderr: string }> => {
    log([c, ...args].join(' '));
    const r = await run(c, args, { timeoutMs: 30_000 });
    return { ok: r.code === 0, stderr: r.stderr.trim() };
  };
  const ctx: CleanContext = { home, log, failed, cmd, of };
  for (const kind of Object.keys(REMOVERS) as ResidueKind[]) await REMOVERS[kind].remove(of(kind), ctx);
  return errors;
}

/**
 * Removes a folder of the workspace, but only once nothing is mounted inside it: a recursive rm
 * would otherwise reach into a mount that clean could not remove (and through a bind mount, into
 * someone else's files). `--one-file-system` is the second guard. Returns why not, or null.
 */
export async function removeTree(dir: string, log: (line: string) => void): Promise<string | null> {
  const busy = (await readMountinfo('self')).find((m) => isPathUnder(m.mountPoint, dir));
  if (busy !== undefined) return `${busy.mountPoint} is still mounted inside it`;
  if (!(await stat(dir).then(() => true, () => false))) return null;
  log(`rm -rf --one-file-system ${dir}`);
  const r = await run('rm', ['-rf', '--one-file-system', dir], { timeoutMs: 120_000 });
  return r.code === 0 ? null : r.stderr.trim() || `rm exited ${r.code ?? 'on a signal'}`;
}

export type CleanupOutcome =
  | { chapter: string; status: 'ok' }
  | { chapter: string; status: 'failed'; error: string }
  /** progress or a folder in the home, of a chapter the lessons in use do not have */
  | { chapter: string; status: 'unknown' };

/** The chapters that have something in a home's progress: an entry in its state.json, or a folder in its chapters/. */
export async function startedChapters(chaptersDir: string, stateChapters: Readonly<Record<string, unknown>>): Promise<Set<string>> {
  const folders = (await readdir(chaptersDir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name);
  return new Set([...Object.keys(stateChapters), ...folders]);
}

/**
 * Runs the own cleanup of every chapter that has state in the home (progress in state.json, or a
 * folder in chapters/), built-in or from a pack, the last chapter first: a chapter knows things
 * that discovery cannot (a PID file of a background process, a lab it started). A cleanup that
 * fails is reported, and the next one still runs.
 */
export async function runChapterCleanups(j: Journey, log: (line: string) => void, verbose: boolean): Promise<CleanupOutcome[]> {
  const ids = await startedChapters(j.ws.chaptersDir, j.state.chapters);
  const out: CleanupOutcome[] = [];
  for (const id of ids) if (!j.cat.chapters.some((c) => c.id === id)) out.push({ chapter: id, status: 'unknown' });
  for (const entry of [...j.cat.chapters].reverse().filter((c) => ids.has(c.id))) {
    const place = j.place(entry.id) ?? { chapter: entry.id, dir: j.ws.chapterDir(entry.id), home: j.ws.home, nonce: '', startedAt: 0 };
    if (verbose) log(`▶ the cleanup of chapter ${entry.id}`);
    try {
      await cleanupChapter(await j.load(entry), place, log, verbose);
      out.push({ chapter: entry.id, status: 'ok' });
    } catch (err) {
      const error = describeFailure(err);
      log(`  failed: ${error}`);
      out.push({ chapter: entry.id, status: 'failed', error });
    }
  }
  return out;
}
