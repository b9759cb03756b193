import { readFile } from 'node:fs/promises';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, buildBusyboxRootfs, buildDynamicBusyboxRootfs, file, tool, readMountinfo, mountsUnder, mountsAt, processesUnder, listPids, nsLinks, readStatus, ancestors,
  findContainers, processesRootedAt, processesWithBusyboxRoot, hostNamespaces, requireHostNamespaces, hostHostname, startedFrom, mountsOf, mountsOnlyInside, hostMountsVisible, procMountPidNs,
  idMapOf, mapId, interfacesOf, queuesIn, who, procRoot, procCwd, isPathUnder,
  type Container, type Check, type CheckContext, type Control, type LoaderPlace, type NsProcess, type SolveContext, type Mutant, type Verdict, sleep, processStart,
} from 'workshop/lesson';

const ROOTFS = 'rootfs';
const NAME = 'container';

/** When a process started, in clock ticks since boot (field 22 of /proc/PID/stat); 0 when gone. */
const startTime = async (pid: number): Promise<number> => processStart(pid) ?? 0;
/** The boot time, in seconds since the epoch (the btime line of /proc/stat). */
const bootTime = async (): Promise<number> => Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1] ?? 0);
// USER_HZ: the unit of /proc/PID/stat's times, 100 on every Linux architecture workshop runs on.
const TICKS_PER_SECOND = 100;
/** btime is whole seconds: a container started this close before the chapter still counts. */
const START_SLACK_MS = 2000;

/**
 * The containers started since the chapter did, and the older ones: a container left running by
 * someone or something else before the chapter began is stale state, and proves nothing.
 */
async function sinceStart<T extends NsProcess>(ps: readonly T[], startedAt: number): Promise<{ fresh: T[]; stale: T[] }> {
  const boot = await bootTime();
  const at = await Promise.all(ps.map(async (p) => (boot + (await startTime(p.pid)) / TICKS_PER_SECOND) * 1000));
  return { fresh: ps.filter((_, i) => (at[i] ?? 0) >= startedAt - START_SLACK_MS), stale: ps.filter((_, i) => (at[i] ?? 0) < startedAt - START_SLACK_MS) };
}

/**
 * Newest first: with several containers running, the one the learner just started is the one
 * meant. By start time, not PID: PIDs wrap around.
 */
async function newestFirst<T extends NsProcess>(ps: readonly T[]): Promise<T[]> {
  const times = new Map(await Promise.all(ps.map(async (p) => [p.pid, await startTime(p.pid)] as const)));
  return [...ps].sort((a, b) => (times.get(b.pid) ?? 0) - (times.get(a.pid) ?? 0) || b.pid - a.pid);
}

/** What a step's checks share: the containers are looked up once per verify, not once per check. */
interface Seen {
  host: Record<string, string>;
  /** processes renamed in a UTS namespace of their own, whatever the name */
  containers: Container[];
  /** processes whose / is a root of their own that holds a working BusyBox */
  rooted: NsProcess[];
  /** containers that were running before the chapter started: not counted */
  stale: Container[];
}

function observe(ctx: CheckContext): () => Promise<Seen> {
  let seen: Promise<Seen> | undefined;
  return () =>
    (seen ??= (async () => {
      const [host, containers, rooted] = await Promise.all([hostNamespaces(), findContainers(), processesWithBusyboxRoot()]);
      const [c, r] = await Promise.all([sinceStart(containers, ctx.startedAt), sinceStart(rooted, ctx.startedAt)]);
      return { host, containers: await newestFirst(c.fresh), rooted: await newestFirst(r.fresh), stale: c.stale };
    })());
}

const own = (p: NsProcess, host: Record<string, string>, type: string) => p.ns[type] !== undefined && p.ns[type] !== host[type];
const listed = (ps: readonly NsProcess[]) => (ps.length === 0 ? 'none' : ps.slice(0, 4).map(who).join(', ') + (ps.length > 4 ? ', …' : ''));
const noContainer = (s?: Seen): Verdict =>
  fail(`a container: a process in a UTS namespace of its own, renamed inside (hostname ${NAME})`, s !== undefined && s.stale.length > 0 ? `none started since this chapter began; older ones do not count (${[...new Map(s.stale.map((q) => [q.ns['uts'], q])).values()].slice(0, 3).map(named_).join('; ')})` : 'none is running', `Leave the container running in a second terminal (or end its command with sleep infinity), and set its hostname inside it: hostname ${NAME}`);
/** `PID 4711 (sh), hostname littlebox`: the learner's own name for it is how they recognise it. */
const named_ = (p: Container) => `${who(p)}, hostname ${p.hostname}`;
/** The other containers running, one per UTS namespace, so that a learner sees which one a check took. */
const alsoFound = (p: Container, s: Seen): string => {
  const others = [...new Map(s.containers.filter((q) => q.ns['uts'] !== p.ns['uts']).map((q) => [q.ns['uts'], q])).values()];
  return others.length === 0 ? '' : `; also running: ${others.slice(0, 3).map(named_).join('; ')}${others.length > 3 ? ', …' : ''}`;
};

/** A check about the first container that `pick` accepts; `none` explains why none did. */
function aboutContainer(
  name: string,
  obs: () => Promise<Seen>,
  pick: (p: Container, s: Seen) => Promise<boolean> | boolean,
  judge: (p: Container, s: Seen) => Promise<Verdict> | Verdict,
  none: (s: Seen) => Verdict,
): Check {
  return defineCheck(name, async () => {
    const s = await obs();
    if (s.containers.length === 0) return noContainer(s);
    for (const p of s.containers) if (await pick(p, s)) return judge(p, s);
    return none(s);
  });
}

/** A container with its own namespace of `type`, as the first check of a step. */
function ownNamespace(type: string, obs: () => Promise<Seen>, flag: string): Check {
  return aboutContainer(
    `the container has a ${type} namespace of its own`,
    obs,
    (p, s) => own(p, s.host, type),
    (p, s) => pass(`${named_(p)}: ${p.ns[type] ?? '?'}, the host has ${s.host[type] ?? '?'}`),
    (s) => fail(`a container whose ${type} namespace differs from PID 1's`, `every container shares the host's: ${listed(s.containers)}`, `Start it with unshare ${flag}.`),
  );
}

// ---- the chapter's processes -------------------------------------------------------------


/**
 * The processes this chapter may kill, by PID: those whose root is the chapter's rootfs, those
 * started from the chapter folder that live in a namespace of their own, and every process in
 * the namespaces of these (the container's children). A plain shell in the folder is left alone.
 */
async function chapterProcesses(ctx: CheckContext): Promise<number[]> {
  const [host, skip, under, rooted] = await Promise.all([hostNamespaces(), ancestors(), processesUnder([ctx.dir]), processesRootedAt(ctx.path(ROOTFS)).catch(() => [])]);
  const types = ['uts', 'pid', 'mnt', 'ipc', 'net', 'user'];
  // Without the host's links every process would look namespaced: kill nothing rather than all.
  requireHostNamespaces(host, types);
  const proven = new Set<number>(rooted.map((p) => p.pid));
  const theirs = new Set<string>();
  for (const pid of under) {
    const ns = await nsLinks(pid);
    const mine = types.filter((t) => ns[t] !== undefined && ns[t] !== host[t]);
    if (mine.length > 0) proven.add(pid);
  }
  for (const pid of proven) {
    const ns = await nsLinks(pid);
    for (const t of types) if (ns[t] !== undefined && ns[t] !== host[t]) theirs.add(ns[t] ?? '');
  }
  for (const pid of await listPids()) {
    if (proven.has(pid) || pid === 1) continue;
    const ns = await nsLinks(pid);
    if (types.some((t) => ns[t] !== undefined && theirs.has(ns[t] ?? ''))) proven.add(pid);
  }
  return [...proven].filter((p) => !skip.has(p));
}

const isGone = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null || /\) Z /.test(stat);
};

async function stopChapterProcesses(ctx: SolveContext): Promise<void> {
  const pids = await chapterProcesses(ctx);
  if (pids.length === 0) return;
  await ctx.$`kill -KILL ${pids}`.nothrow();
  for (let i = 0; i < 300; i++) {
    if ((await Promise.all(pids.map(isGone))).every(Boolean)) return;
    await sleep(10);
  }
  throw new Error(`processes ${pids.join(' ')} are still running 3 s after kill -KILL`);
}

/**
 * Starts a container in the background, detached from workshop (setsid -f), with its output
 * thrown away, and waits until its last command (always `sleep`) runs: by then it is set up.
 */
async function startContainer(ctx: SolveContext, argv: readonly string[]): Promise<void> {
  // Cheap enough to poll: the comm of every process, then where the sleeping ones live.
  const sleepers = async () => {
    const pids = await listPids();
    const comms = await Promise.all(pids.map((p) => readFile(`/proc/${p}/comm`, 'utf8').catch(() => '')));
    const sleeping = pids.filter((_, i) => comms[i] === 'sleep\n');
    const places = await Promise.all(sleeping.map(async (p) => [await procRoot(p), await procCwd(p)]));
    return sleeping.filter((_, i) => (places[i] ?? []).some((x) => x !== null && isPathUnder(x, ctx.dir)));
  };
  const before = new Set(await sleepers());
  await ctx.$`setsid -f ${argv} < /dev/null > /dev/null 2>&1`;
  for (let i = 0; i < 500; i++) {
    if ((await sleepers()).some((p) => !before.has(p))) return;
    await sleep(10);
  }
  throw new Error(`the container did not reach its sleep within 5 s: ${argv.join(' ')}`);
}

const sh = (flags: readonly string[], script: string): string[] => ['unshare', ...flags, 'sh', '-c', script];
const named = (rest: string) => `hostname ${NAME}; ${rest}`;

/** pivot_root into `root` (rootfs); `inside` runs in the new root (busybox sh) before the final sleep. */
const pivotScript = (inside: string, root = ROOTFS) =>
  named(`mount --bind ${root} ${root} && cd ${root} && mkdir -p oldroot && pivot_root . oldroot && cd / && exec /bin/busybox sh -c '${inside}exec sleep infinity'`);
const PIVOT = sh(['--uts', '--pid', '--mount', '--fork'], pivotScript('umount -l /oldroot; '));
const WITH_PROC = 'umount -l /oldroot; mount -t proc proc /proc; ';
const PIVOT_WITH_PROC = sh(['--uts', '--pid', '--mount', '--fork'], pivotScript(WITH_PROC));

/** Where a control's real-image root is built, beside the chapter's rootfs. */
const REAL_ROOT = 'ws-real-image';
/**
 * The reference container, pivoted into a real image's root instead: Debian's dynamically linked
 * BusyBox with its loader and libraries (as packaged, or with a loader only the root has, as
 * Alpine's musl one is on this host). A control: the checks judge the root from inside it.
 */
const pivotedIntoRealImage = (loader: LoaderPlace, inside: string): Control => ({
  apply: async (ctx) => {
    await stopChapterProcesses(ctx);
    await buildDynamicBusyboxRootfs(ctx, ctx.path(REAL_ROOT), loader);
    await startContainer(ctx, sh(['--uts', '--pid', '--mount', '--fork'], pivotScript(inside, REAL_ROOT)));
  },
  revert: async (ctx) => {
    await stopChapterProcesses(ctx);
    await unmountUnder(ctx);
    await ctx.$`rm -rf ${REAL_ROOT}`;
  },
});

const holds = async (checks: (ctx: CheckContext) => readonly Check[], ctx: CheckContext): Promise<boolean> =>
  (await Promise.all(checks(ctx).map((c) => c.run(ctx)))).every((r) => r.status === 'pass');

/**
 * The reference solution of a step: nothing to do when the step already passes; otherwise start
 * its container. If a wrong container of the learner's still makes the step fail (a renamed
 * "host", proc mounted from outside), it is stopped, with what it left mounted in the chapter
 * folder: the learner's way out is the same, exit that shell and start again.
 */
const solveWith = (checks: (ctx: CheckContext) => readonly Check[], argv: readonly string[]) => async (ctx: SolveContext) => {
  if (await holds(checks, ctx)) return;
  const old = await chapterProcesses(ctx);
  await startContainer(ctx, argv);
  if (old.length === 0 || (await holds(checks, ctx))) return;
  ctx.log('The containers that were there before still make the step fail: they are stopped.');
  await ctx.$`kill -KILL ${old}`.nothrow();
  for (let i = 0; i < 300 && !(await Promise.all(old.map(isGone))).every(Boolean); i++) await sleep(10);
  await unmountUnder(ctx);
};

/** A near-miss container instead of the reference one. */
const replacedBy = (argv: readonly string[], before?: (ctx: SolveContext) => Promise<void>): Mutant => async (ctx) => {
  await stopChapterProcesses(ctx);
  if (before) await before(ctx);
  await startContainer(ctx, argv);
};

/** Unmounts what a mutant mounted on the host inside the chapter folder, deepest first. */
async function unmountUnder(ctx: SolveContext): Promise<void> {
  for (const m of mountsUnder(await readMountinfo(), ctx.dir).reverse()) await ctx.$`umount -l ${m.mountPoint}`;
}

// ---- the steps' checks ---------------------------------------------------------------------

const utsChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  return [
    aboutContainer(
      `a process has a hostname of its own ("${NAME}" here) in a UTS namespace of its own`,
      obs,
      () => true,
      (p, s) => pass(`${named_(p)}: ${p.ns['uts'] ?? '?'}, the host (${hostHostname()}) has ${s.host['uts'] ?? '?'}${alsoFound(p, s)}`),
      (s) => noContainer(s),
    ),
    defineCheck(`the place the container was started from has another name`, async () => {
      const s = await obs();
      if (s.containers.length === 0) return noContainer(s);
      const byNs = new Map(s.containers.map((p) => [p.ns['uts'], p]));
      for (const p of byNs.values()) {
        const from = await startedFrom(p);
        if (from.hostname === p.hostname) {
          return fail(`a hostname that only the container has`, `PID ${from.pid}, where ${who(p)} was started, is called "${p.hostname}" too`, 'Change the hostname inside the new namespace, after unshare --uts, not before it.');
        }
      }
      return pass(`started from a namespace that kept its own name`);
    }),
    defineCheck(`the host is still not called "${NAME}"`, () => {
      const h = hostHostname();
      return h !== NAME ? pass(`the host is ${h}`) : fail(`the host's own hostname unchanged`, `the host is called ${NAME}`, 'You renamed the host: set its old name back with hostname OLDNAME, then rename inside unshare --uts.');
    }),
  ];
};

const isPid1 = (p: NsProcess) => p.status.nspid.length >= 2 && p.status.nspid.at(-1) === 1;

const pidChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  const noPid1 = (s: Seen): Verdict => {
    const noFork = s.containers.find((p) => p.ns['pid_for_children'] !== undefined && p.ns['pid_for_children'] !== p.ns['pid']);
    return noFork
      ? fail('a container process that is PID 1 in a PID namespace of its own', `${who(noFork)} made a PID namespace for its children but is not in it (NSpid: ${noFork.status.nspid.join(' ')})`, 'unshare --pid needs --fork: without it the shell stays outside, and its first child becomes PID 1.')
      : fail('a container process that is PID 1 in a PID namespace of its own', `NSpid of the containers: ${s.containers.map((p) => `${p.pid}: ${p.status.nspid.join(' ')}`).join(', ')}`, 'unshare --pid --fork --mount-proc');
  };
  return [
    aboutContainer('a container process is PID 1 in its own PID namespace', obs, isPid1, (p) => pass(`${named_(p)}: NSpid ${p.status.nspid.join(' ')}`), noPid1),
    aboutContainer(
      "ps inside shows only the container's processes (its /proc is its own PID namespace's)",
      obs,
      isPid1,
      async (p, s) => {
        const procNs = await procMountPidNs(p.pid);
        if (procNs === p.ns['pid']) return pass(`/proc inside belongs to ${procNs}`);
        const actual =
          procNs === null ? 'nothing is mounted at its /proc'
          : procNs === s.host['pid'] ? `its /proc is the host's (${procNs}): ps inside lists every process of the VM`
          : `its /proc belongs to another PID namespace, ${procNs}`;
        return fail(`the container's /proc to show ${p.ns['pid'] ?? '?'}`, actual, 'Add --mount-proc: it mounts a new proc for the new PID namespace.');
      },
      noPid1,
    ),
  ];
};

const mountNsChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  return [
    ownNamespace('mnt', obs, '--mount'),
    aboutContainer(
      'a mount made inside is not visible outside',
      obs,
      async (p, s) => own(p, s.host, 'mnt') && mountsOnlyInside((await mountsOf(p.pid)) ?? [], await readMountinfo()).length > 0,
      async (p) => {
        const extra = mountsOnlyInside((await mountsOf(p.pid)) ?? [], await readMountinfo());
        return pass(`${named_(p)} has ${extra.map((m) => `${m.fsType} at ${m.mountPoint}`).join(', ')}; the host has not`);
      },
      () => fail('a mount inside the container that the host does not have', 'the containers with a mount namespace of their own see the same mounts as the host', 'Inside the container: mount -t tmpfs tmpfs /mnt'),
    ),
  ];
};

/**
 * A process with a root of its own that holds a working BusyBox (the chapter's rootfs, chapter
 * 04's container layer, or another), found without the learner's help; `want` picks the one that matters.
 */
function aboutRooted(name: string, obs: () => Promise<Seen>, want: (p: NsProcess, s: Seen) => Promise<Verdict>): Check {
  return defineCheck(name, async (ctx) => {
    const s = await obs();
    if (s.rooted.length === 0) return fail(`a process whose / is a root of its own with a working BusyBox (${ctx.path(ROOTFS)}, or chapter 04's container layer)`, "none: every process has the host's root, or one where /bin/busybox does not run (chroot ROOT /bin/busybox true)", 'pivot_root . oldroot, run from inside rootfs (see the step).');
    let first: Verdict | undefined;
    for (const p of s.rooted) {
      const v = await want(p, s);
      if (v.ok) return v;
      first ??= v;
    }
    return first ?? fail('a container', 'none');
  });
}

const hostMountsOf = async (p: NsProcess): Promise<string[]> => hostMountsVisible((await mountsOf(p.pid)) ?? [], await readMountinfo()).map((m) => m.mountPoint);

const pivotChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  return [
    aboutRooted("a container's / is a root of its own that holds a working BusyBox", obs, async (p, s) => {
      // Every distinct root, so that the learner sees theirs among others (a chroot of chapter 01…).
      const roots = [...new Set(await Promise.all(s.rooted.map(async (q) => (await procRoot(q.pid)) ?? '?')))];
      return pass(`${who(p)}: / is ${(await procRoot(p.pid)) ?? '?'}, and its /bin/busybox runs${roots.length > 1 ? `; roots of their own: ${roots.slice(0, 4).join(', ')}` : ''}`);
    }),
    aboutRooted('no host mount is visible inside (the old root is unmounted)', obs, async (p, s) => {
      if (!own(p, s.host, 'mnt')) return fail('a container in a mount namespace of its own, after pivot_root', `${who(p)} shares the host's mount table: that is a chroot`, 'unshare --mount first, then pivot_root; chroot only changes the root folder.');
      const visible = await hostMountsOf(p);
      return visible.length === 0
        ? pass(`${who(p)} sees ${(await mountsOf(p.pid))?.length ?? 0} mounts, none of them the host's`)
        : fail('only the container\'s own mounts inside', `${visible.length} host mounts visible in ${who(p)}: ${visible.slice(0, 3).join(', ')}${visible.length > 3 ? ', …' : ''}`, 'Inside: umount -l /oldroot');
    }),
  ];
};

const procFixedChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  const procAt = async (p: NsProcess) => ((await mountsOf(p.pid)) ?? []).some((m) => m.mountPoint === '/proc' && m.fsType === 'proc');
  // A near-miss seen in class: proc mounted from the host's shell at rootfs/proc. That mount is in
  // the host's mount namespace; the container, in its own, never sees it.
  const noProc = async (p: NsProcess): Promise<Verdict> => {
    const onHost = mountsAt(await readMountinfo(), ctx.path(ROOTFS, 'proc')).some((m) => m.fsType === 'proc');
    return onHost
      ? fail('a proc file system at /proc in the container', `${who(p)}: nothing at /proc; a proc is mounted at ${ROOTFS}/proc in the host's mount namespace, which the container does not see`, `umount ${ROOTFS}/proc, then inside the container: mount -t proc proc /proc`)
      : fail('a proc file system at /proc in the container', `${who(p)}: nothing at /proc`, 'Inside the container: mount -t proc proc /proc');
  };
  return [
    aboutRooted('proc is mounted at /proc inside the container', obs, async (p) => ((await procAt(p)) ? pass(`${who(p)} has proc at /proc`) : noProc(p))),
    aboutRooted("it shows only the container's processes", obs, async (p, s) => {
      if (!(await procAt(p))) return noProc(p);
      const procNs = await procMountPidNs(p.pid);
      if (procNs === s.host['pid']) return fail("a /proc of the container's own PID namespace", `${who(p)}'s /proc shows the host's PID namespace ${procNs}: the leak of chapter 02`, 'Start the container with unshare --pid --fork, then mount proc inside it.');
      if (p.ns['pid'] === s.host['pid']) return fail("a /proc of the container's own PID namespace", `${who(p)} shares the host's PID namespace, so a proc it mounts lists the host's processes`, 'Start the container with unshare --pid --fork, then mount proc inside it.');
      return procNs === p.ns['pid'] ? pass(`${who(p)}: its /proc shows ${procNs}, its own`) : fail(`its /proc to show ${p.ns['pid'] ?? '?'}`, `it shows ${procNs ?? 'nothing'}`);
    }),
  ];
};

const ipcChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  return [
    ownNamespace('ipc', obs, '--ipc'),
    aboutContainer(
      'a message queue made inside is not in the host\'s IPC namespace',
      obs,
      async (p, s) => own(p, s.host, 'ipc') && ((await queuesIn(p.pid)) ?? []).length > 0,
      async (p) => {
        const [inside, host] = await Promise.all([queuesIn(p.pid), queuesIn('host')]);
        const keys = new Set((host ?? []).map((q) => q.key));
        const only = (inside ?? []).filter((q) => q.key === 0 || !keys.has(q.key));
        return only.length > 0 ? pass(`${who(p)} has queue ${only.map((q) => `key ${q.key} id ${q.msqid}`).join(', ')}; the host has not`) : fail('a queue only the container has', 'the host has the same keys');
      },
      () => fail('a System V message queue inside a container with its own IPC namespace', 'none', 'Inside the container: ipcmk -Q; then ipcs -q inside and outside'),
    ),
  ];
};

const userChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  const mapped = async (p: NsProcess) => mapId((await idMapOf(p.pid)) ?? [], 0);
  return [
    ownNamespace('user', obs, '--user'),
    aboutContainer(
      'uid 0 inside the container maps to a real uid outside (uid_map)',
      obs,
      async (p, s) => own(p, s.host, 'user') && (await mapped(p)) !== null,
      async (p) => pass(`${who(p)}: uid_map maps 0 to ${String(await mapped(p))}`),
      (s) => {
        const u = s.containers.find((p) => own(p, s.host, 'user'));
        return fail('a uid_map line "0 UID 1" for the container', u ? `${who(u)} has an empty uid_map: inside it is nobody (65534)` : 'no container with its own user namespace', 'unshare --user --map-root-user');
      },
    ),
    aboutContainer(
      'outside, the container runs as that uid',
      obs,
      async (p, s) => own(p, s.host, 'user') && (await mapped(p)) !== null,
      async (p) => {
        const m = await mapped(p);
        const uid = p.status.uid[0];
        return uid === m ? pass(`${who(p)} is uid ${uid} on the host and root inside`) : fail(`uid ${String(m)} on the host`, `uid ${String(uid)}`);
      },
      () => fail('a container in its own user namespace with uid 0 mapped', 'none'),
    ),
  ];
};

const netChecks = (ctx: CheckContext): Check[] => {
  const obs = observe(ctx);
  return [
    ownNamespace('net', obs, '--net'),
    aboutContainer(
      'its only network interface is lo',
      obs,
      (p, s) => own(p, s.host, 'net'),
      async (p) => {
        const links = (await interfacesOf(p.pid)) ?? [];
        return links.length === 1 && links[0] === 'lo' ? pass(`${who(p)} has only lo`) : fail('only lo', `${who(p)} has ${links.join(', ') || 'nothing'}`, 'A new network namespace starts with lo alone; something added more.');
      },
      () => fail('a container with its own network namespace', 'none', 'unshare --net'),
    ),
  ];
};

const UTS = sh(['--uts'], named('exec sleep infinity'));

export default defineChapter({
  formatVersion: 1,
  id: 'namespaces',
  title: 'Namespaces and pivot_root',
  state: 'namespaces',
  requires: [file('/bin/busybox', 'busybox-static'), tool('unshare', 'util-linux'), tool('nsenter', 'util-linux'), tool('pivot_root', 'util-linux'), tool('ipcmk', 'util-linux'), tool('setsid', 'util-linux')],
  setup: async (ctx) => {
    await buildBusyboxRootfs(ctx, ctx.path(ROOTFS));
    await ctx.$`mkdir -p ${ctx.path(ROOTFS, 'proc')} ${ctx.path(ROOTFS, 'mnt')} ${ctx.path(ROOTFS, 'tmp')}`;
  },
  steps: {
    uts: {
      verify: utsChecks,
      solve: solveWith(utsChecks, UTS),
      hints: ['unshare --uts starts a program in a new UTS namespace; change the hostname inside it.', 'In a second terminal: unshare --uts sh, then hostname container; hostname'],
      mutants: {
        // The host must keep its name, so a stand-in plays the renamed host: a UTS namespace
        // called "container", from which the container is started with a namespace of its own.
        renamedHost: diagnosed(replacedBy(sh(['--uts'], named('unshare --uts sleep infinity & wait'))), /is called "container" too/),
      },
    },
    pid: {
      verify: pidChecks,
      solve: solveWith(pidChecks, sh(['--uts', '--pid', '--fork', '--mount-proc'], named('exec sleep infinity'))),
      hints: ['A new PID namespace needs a new process in it (--fork) and a /proc of its own (--mount-proc).', 'unshare --uts --pid --fork --mount-proc sh, then hostname container; echo $$; ps'],
      mutants: {
        noFork: diagnosed(replacedBy(sh(['--uts', '--pid'], named('exec sleep infinity'))), /unshare --pid needs --fork/),
        hostProc: diagnosed(replacedBy(sh(['--uts', '--pid', '--fork'], named('exec sleep infinity'))), /(nothing is mounted at its \/proc|its \/proc is the host's)[\s\S]*Add --mount-proc/),
      },
    },
    'mount-ns': {
      verify: mountNsChecks,
      solve: solveWith(mountNsChecks, sh(['--uts', '--mount'], named('mount -t tmpfs tmpfs /mnt && exec sleep infinity'))),
      hints: ['unshare --mount gives the shell a copy of the mount table; mount something in it.', 'unshare --uts --mount sh, then hostname container; mount -t tmpfs tmpfs /mnt; and outside: findmnt /mnt'],
      mutants: {
        mountedOnTheHost: diagnosed(replacedBy(UTS, async (ctx) => {
          await ctx.$`mkdir -p ${ctx.path('host-mnt')}`;
          await ctx.$`mount -t tmpfs tmpfs ${ctx.path('host-mnt')}`;
        }), /every container shares the host\'s[\s\S]*unshare --mount/),
      },
    },
    'pivot-root': {
      verify: pivotChecks,
      solve: solveWith(pivotChecks, PIVOT),
      controls: {
        dynamicBusybox: pivotedIntoRealImage('as-packaged', 'umount -l /oldroot; '),
        loaderOnlyInside: pivotedIntoRealImage('inside-only', 'umount -l /oldroot; '),
      },
      hints: ['pivot_root needs the new root to be a mount point: bind-mount rootfs on itself, inside a new mount namespace.', 'unshare --uts --pid --mount --fork sh; hostname container; mount --bind rootfs rootfs; cd rootfs; mkdir -p oldroot; pivot_root . oldroot; cd /; umount -l /oldroot'],
      mutants: {
        oldRootMounted: diagnosed(replacedBy(sh(['--uts', '--pid', '--mount', '--fork'], pivotScript(''))), /host mounts visible[\s\S]*umount -l \/oldroot/),
        chrootInstead: diagnosed(replacedBy(['chroot', ROOTFS, '/bin/sleep', 'infinity']), /that is a chroot/),
      },
    },
    'proc-fixed': {
      verify: procFixedChecks,
      solve: solveWith(procFixedChecks, PIVOT_WITH_PROC),
      hints: ['In the pivoted container, mount a proc file system at /proc; it belongs to the container\'s PID namespace.', 'Inside the container: mount -t proc proc /proc; ps'],
      controls: {
        loaderOnlyInside: pivotedIntoRealImage('inside-only', WITH_PROC),
      },
      mutants: {
        hostPidNamespace: diagnosed(replacedBy(sh(['--uts', '--mount'], pivotScript(WITH_PROC))), /(shows|shares) the host's PID namespace/),
        // A near-miss seen in class: proc mounted from the host's shell instead of inside the container.
        procFromTheHost: diagnosed(async (ctx) => {
          await stopChapterProcesses(ctx);
          await startContainer(ctx, PIVOT);
          await ctx.$`mount -t proc proc ${ctx.path(ROOTFS, 'proc')}`;
        }, /in the host's mount namespace, which the container does not see/),
      },
    },
    ipc: {
      verify: ipcChecks,
      solve: solveWith(ipcChecks, sh(['--uts', '--ipc'], named('ipcmk -Q && exec sleep infinity'))),
      hints: ['unshare --ipc gives the container its own System V queues, semaphores and shared memory.', 'unshare --uts --ipc sh, then hostname container; ipcmk -Q; ipcs -q; and outside: ipcs -q'],
      mutants: {
        sharedIpc: diagnosed(replacedBy(UTS), /every container shares the host\'s[\s\S]*unshare --ipc/),
      },
    },
    user: {
      verify: userChecks,
      solve: solveWith(userChecks, sh(['--user', '--map-root-user', '--uts'], named('exec sleep infinity'))),
      hints: ['unshare --user makes a user namespace; --map-root-user writes uid_map so that you are root inside.', 'unshare --user --map-root-user --uts sh, then hostname container; id; cat /proc/self/uid_map'],
      mutants: {
        noUidMap: diagnosed(replacedBy(sh(['--uts'], named('exec unshare --user sleep infinity'))), /has an empty uid_map/),
      },
    },
    net: {
      verify: netChecks,
      solve: solveWith(netChecks, sh(['--uts', '--net'], named('exec sleep infinity'))),
      hints: ['unshare --net gives the container a network stack of its own, with only a loopback device.', 'unshare --uts --net sh, then hostname container; ip link'],
      mutants: {
        sharedNetwork: diagnosed(replacedBy(UTS), /every container shares the host\'s[\s\S]*unshare --net/),
        extraLink: diagnosed(replacedBy(sh(['--uts', '--net'], named('ip link add ws-nsmut0 type veth peer name ws-nsmut1 && exec sleep infinity'))), /has lo, ws-nsmut1, ws-nsmut0|something added more/),
      },
    },
  },
  // Container the Hard Way moves the container's root to the machine's /littlebox (docs/04).
  madeOutside: [{ path: '/littlebox', madeBy: "Container the Hard Way's docs/04 (mkdir -p /littlebox)", remove: 'rmdir /littlebox' }],
  removes: async (ctx) => [
    ...(await chapterProcesses(ctx)).map((pid) => `the container process ${pid}, with its namespaces`),
    ...mountsUnder(await readMountinfo(), ctx.dir).map((m) => `the mount at ${m.mountPoint.slice(ctx.dir.length + 1)} (${m.fsType})`),
  ],
  cleanup: async (ctx) => {
    // Processes first: they hold their namespaces, and with them the container's own mounts.
    await stopChapterProcesses(ctx);
    await unmountUnder(ctx);
  },
});
