// What wakes `workshop watch`: every kind of change that a step's checks can see, reported as it
// happens, so that the table follows the learner's command within a few hundred ms:
//   files   inotify (fs.watch, recursive) on the chapter folder;
//   mounts  /proc/self/mountinfo's change notification (checks/mounts.ts);
//   links, addresses and routes   `ip monitor` in the root netns and in each lab netns present,
//           and inotify on /run/netns, where lab namespaces come and go;
//   cgroups inotify on the cgroup roots (each v1 controller's, or v2's one) and on each `ws-*`
//           cgroup in them: a mkdir or rmdir of a group, and a write to its files (`echo $$ >
//           cgroup.procs`, pids.max, subtree_control) raise events there, as the checks read them.
// Changes come in bursts; the loop waits until they settle, and its timer stays as the fallback.
import { existsSync, readdirSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT } from '../checks/cgroups.ts';
import { LAB } from '../checks/lab.ts';
import { onMountChange } from '../checks/mounts.ts';
import { followLines } from '../sys/exec.ts';

/**
 * Changes come in bursts (`busybox --install` makes 400 links, `cp -a` many files, one `mount`
 * several notifications): verify once they have settled for this long, not in the middle, where
 * a half-made state reads as ✘.
 */
export const SETTLE_MS = 150;

/** Where named network namespaces live (`ip netns add` binds them here). */
const NETNS_DIR = '/run/netns';
const LAB_NAMESPACES: readonly string[] = [LAB.host, LAB.net, LAB.box];
/** The netlink groups whose changes network checks read. */
const MONITORED = ['link', 'address', 'route'];

/**
 * What wakes the loop: a change once nothing else has changed for SETTLE_MS, a stop, the timer.
 * A wake while a verify runs is kept for the wait after it: the change it reports came too late
 * for the verify that is running.
 */
export function wakeups() {
  let wake: (() => void) | undefined;
  let settle: NodeJS.Timeout | undefined;
  let pending = false;
  let stopped = false;
  const fire = () => {
    const w = wake;
    wake = undefined;
    if (w) w();
    else pending = true;
  };
  return {
    changed: () => {
      clearTimeout(settle);
      settle = setTimeout(fire, SETTLE_MS);
    },
    stop: () => {
      stopped = true;
      fire();
    },
    get stopped() {
      return stopped;
    },
    /** the verify about to run sees every change made so far */
    seen: () => {
      pending = false;
    },
    async wait(ms: number): Promise<void> {
      if (pending || stopped) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(fire, ms);
      });
      clearTimeout(timer);
    },
    dispose: () => clearTimeout(settle),
  };
}

/** The event sources of one watch; `follow` points the file watch at the chapter folder now current. */
export interface ChangeSources {
  follow(dir: string): void;
  stop(): void;
}

/** fs.watch, or undefined where the path does not exist (yet): the timer still runs. `gone` when it goes away. */
const tryWatch = (path: string, opts: { recursive: boolean }, onChange: (event: string, name: string | null) => void, gone: (w: FSWatcher) => void): FSWatcher | undefined => {
  try {
    const w = fsWatch(path, opts, onChange);
    w.on('error', () => {
      w.close();
      gone(w);
    });
    return w;
  } catch {
    return undefined;
  }
};

/**
 * One `ip monitor` per lab netns that exists. A monitor inside a netns holds it alive, so that
 * `ip netns del` would not free it (lab down waits for that): the monitor of a namespace whose
 * name left /run/netns is stopped at once.
 */
function netnsMonitors(onChange: () => void) {
  const running = new Map<string, Promise<(() => void) | null>>();
  const present = (): string[] => {
    try {
      return readdirSync(NETNS_DIR).filter((n) => LAB_NAMESPACES.includes(n));
    } catch {
      return [];
    }
  };
  return {
    sync(): void {
      const now = present();
      for (const [ns, stop] of running) {
        if (now.includes(ns)) continue;
        running.delete(ns);
        void stop.then((s) => s?.());
      }
      for (const ns of now) if (!running.has(ns)) running.set(ns, followLines('ip', ['-n', ns, 'monitor', ...MONITORED], onChange, { tied: true }));
    },
    stop(): void {
      for (const stop of running.values()) void stop.then((s) => s?.());
      running.clear();
    },
  };
}

/** The project's cgroups carry its prefix (the chapters' `ws-demo`). */
const OWN_CGROUP = /^ws-/;
/** the files of a cgroup root whose writes change what the checks read */
const ROOT_FILES = new Set(['cgroup.subtree_control', 'cgroup.procs', 'tasks']);

const dirsIn = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
};

/**
 * inotify on the cgroup roots and the project's cgroups in them. A process's membership
 * (/proc/PID/cgroup) raises no event, but the write that changes it does, on cgroup.procs.
 * Events of other software's cgroups at a root (a container runtime's) are left alone.
 */
function cgroupWatch(onChange: () => void) {
  // v2: one tree, /sys/fs/cgroup itself; v1: a tree per controller below it
  const roots = existsSync(join(CGROUP_ROOT, 'cgroup.procs')) ? [CGROUP_ROOT] : dirsIn(CGROUP_ROOT).map((c) => join(CGROUP_ROOT, c));
  const groups = new Map<string, FSWatcher | undefined>();
  const sync = (root: string) => {
    const now = dirsIn(root).filter((n) => OWN_CGROUP.test(n)).map((n) => join(root, n));
    for (const [dir, w] of groups) {
      if (!dir.startsWith(`${root}/`) || now.includes(dir)) continue;
      w?.close();
      groups.delete(dir);
    }
    for (const dir of now) if (!groups.get(dir)) groups.set(dir, tryWatch(dir, { recursive: false }, onChange, () => groups.set(dir, undefined)));
  };
  const watchers = roots.map((root) => {
    sync(root);
    return tryWatch(root, { recursive: false }, (_event, name) => {
      if (name === null) return;
      if (OWN_CGROUP.test(name)) sync(root);
      // a process moved back to the root leaves a group: the write is to the root's cgroup.procs
      if (OWN_CGROUP.test(name) || ROOT_FILES.has(name)) onChange();
    }, () => {});
  });
  return () => {
    for (const w of [...watchers, ...groups.values()]) w?.close();
    groups.clear();
  };
}

/** Starts every event source; `onChange` is called (often, undebounced) on each change. */
export async function watchChanges(onChange: () => void): Promise<ChangeSources> {
  const stopMounts = await onMountChange(onChange);
  const stopRootNet = await followLines('ip', ['monitor', ...MONITORED], onChange, { tied: true });
  const monitors = netnsMonitors(onChange);
  const stopCgroups = cgroupWatch(onChange);
  let netnsDir: FSWatcher | undefined;
  let files: { dir: string; watcher: FSWatcher | undefined } | undefined;
  const netnsChanged = () => {
    monitors.sync();
    onChange();
  };
  return {
    follow(dir) {
      if (files?.dir !== dir || files.watcher === undefined) {
        files?.watcher?.close();
        files = { dir, watcher: tryWatch(dir, { recursive: true }, onChange, (w) => {
          if (files?.watcher === w) files.watcher = undefined;
        }) };
      }
      netnsDir ??= tryWatch(NETNS_DIR, { recursive: false }, netnsChanged, () => {
        netnsDir = undefined;
      });
      monitors.sync();
    },
    stop() {
      stopMounts();
      stopCgroups();
      stopRootNet?.();
      monitors.stop();
      netnsDir?.close();
      files?.watcher?.close();
    },
  };
}
