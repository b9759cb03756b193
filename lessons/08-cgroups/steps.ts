import { readFile, rmdir, stat } from 'node:fs/promises';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, tool, kernelFs, detectLayout, describeLayout, readCgroupFile, parseFlatKeyed, parseLimit, pidsIn, cgroupsOf,
  cgroupPathOf, groupPath, controllersOf, findContainers, containerInit, hostNamespaces, nsLinks, listPids, processesUnder, readStatus, ancestors, who, MIB, CGROUP_ROOT,
  type Container, type CgroupLayout, type Check, type CheckContext, type Controller, type Mutant, type SolveContext, type Verdict, sleep,
} from 'workshop/lesson';

const GROUP = 'ws-demo';
const PIDS_MAX = 20;
const MEMORY_MAX = 32 * MIB;
/** v1's memory+swap limit; only there when the kernel accounts swap (CONFIG_MEMCG_SWAP). */
const MEMSW = 'memory.memsw.limit_in_bytes';
const exists = (p: string) => stat(p).then(() => true, () => false);

/** The folders of ws-demo that hold each controller: two in v1, one in v2. */
const dirsOf = (l: CgroupLayout) => [...new Set((['pids', 'memory'] as const).map((c) => l.dir(c, GROUP)))];

/** A check that first finds the cgroup layout, and names it in what it reports. */
const withLayout = (name: string, judge: (l: CgroupLayout, ctx: CheckContext) => Promise<Verdict>): Check =>
  defineCheck(name, async (ctx) => {
    const l = await detectLayout();
    const v = await judge(l, ctx);
    const tag = `[${describeLayout(l)}] `;
    return v.ok ? pass(tag + v.actual) : fail(v.expected, tag + v.actual, v.hint);
  });

const groupExists = (c: Controller) =>
  withLayout(`cgroup ${GROUP} exists for the ${c} controller`, async (l) => {
    const dir = l.dir(c, GROUP);
    if (!(await exists(dir))) return fail(`a folder ${dir}`, 'it does not exist', `mkdir ${dir}`);
    if (l.version === 'v2' && !(await controllersOf(dir)).includes(c)) {
      return fail(`${c} in ${dir}/cgroup.controllers`, `only: ${(await controllersOf(dir)).join(' ') || 'none'}`, `echo +${c} > ${CGROUP_ROOT}/cgroup.subtree_control`);
    }
    return pass(dir);
  });

const counter = async (dir: string, file: string, key: string): Promise<number | null> => {
  const text = await readCgroupFile(dir, file);
  const v = text === null ? undefined : parseFlatKeyed(text).get(key);
  return v === undefined ? null : Number(v);
};

const limitIs = (c: Controller, want: number, label: string, hint: (file: string) => string) =>
  withLayout(`${GROUP}'s ${c} limit is ${label}`, async (l) => {
    const file = c === 'pids' ? l.files.pidsMax : l.files.memoryMax;
    const path = `${l.dir(c, GROUP)}/${file}`;
    const text = await readCgroupFile(l.dir(c, GROUP), file);
    if (text === null) return fail(`${path} = ${want}`, `${path} does not exist`, 'Create the cgroup first (step create).');
    const got = parseLimit(text);
    return got === want ? pass(`${path} = ${got}`) : fail(`${path} = ${want}`, `${path} = ${got}`, hint(path));
  });

const forkRefused = () =>
  withLayout(`a fork inside ${GROUP} was refused at the limit`, async (l) => {
    const dir = l.dir('pids', GROUP);
    const n = await counter(dir, l.files.pidsEvents, 'max');
    return n !== null && n > 0
      ? pass(`${dir}/${l.files.pidsEvents}: max ${n} (forks refused)`)
      : fail(`max > 0 in ${dir}/${l.files.pidsEvents}`, n === null ? 'no pids.events' : 'max 0: no fork was ever refused in this cgroup', 'Run the fork loop of the step inside the cgroup (its first command writes $$ into cgroup.procs).');
  });

const oomKilled = () =>
  withLayout(`a process in ${GROUP} was OOM-killed`, async (l) => {
    const dir = l.dir('memory', GROUP);
    const n = await counter(dir, l.files.memoryEvents, 'oom_kill');
    return n !== null && n > 0
      ? pass(`${dir}/${l.files.memoryEvents}: oom_kill ${n}`)
      : fail(`oom_kill > 0 in ${dir}/${l.files.memoryEvents}`, n === null ? `no ${l.files.memoryEvents}` : 'oom_kill 0: nothing was killed in this cgroup', 'Run the hungry dd of the step inside the cgroup.');
  });

/** Where a process is, per controller: `pids:/ws-demo, memory:/` */
const placeOf = async (pid: number, l: CgroupLayout): Promise<{ inAll: boolean; where: string }> => {
  const lines = (await cgroupsOf(pid)) ?? [];
  const at = (['pids', 'memory'] as const).map((c) => ({ c, path: cgroupPathOf(lines, c, l.version) }));
  return {
    inAll: at.every(({ c, path }) => path === groupPath(l, c, l.dir(c, GROUP))),
    where: l.version === 'v2' ? (at[0]?.path ?? '?') : at.map(({ c, path }) => `${c}:${path ?? '?'}`).join(', '),
  };
};

/**
 * The containers (a hostname of their own, whatever it is), each by its PID 1: the process the
 * limits must hold. `unshare` itself, its parent, stays outside the PID namespace, and putting
 * only it in the cgroup leaves the container's processes free (CTHW's `pidof unshare` finds it).
 */
async function containerInits(): Promise<Container[]> {
  const byUts = new Map<string, Container[]>();
  for (const p of await findContainers()) byUts.set(p.ns['uts'] ?? '', [...(byUts.get(p.ns['uts'] ?? '') ?? []), p]);
  return [...byUts.values()].map((members) => containerInit(members)).filter((p): p is Container => p !== undefined);
}

const noContainer = (): Verdict => fail('a running container (a hostname of its own in its own UTS namespace, as in chapter 06)', 'none', 'Start it in a second terminal as the step shows.');
const hasOwnPidNs = (p: Container) => p.status.nspid.length > 1 && p.status.nspid.at(-1) === 1;

const containerAttached = () =>
  withLayout(`the container's PID 1 is in ${GROUP} for pids and memory`, async (l) => {
    const inits = await containerInits();
    if (inits.length === 0) return noContainer();
    for (const p of inits.filter(hasOwnPidNs)) if ((await placeOf(p.pid, l)).inAll) return pass(`${who(p)}, PID 1 of the container (hostname ${p.hostname}), is in ${dirsOf(l).join(' and ')}`);
    // The most telling diagnosis first: a container whose unshare was moved instead of it.
    const parentIn = async (p: Container) => p.status.ppid > 1 && (await placeOf(p.status.ppid, l)).inAll;
    const owned = inits.filter(hasOwnPidNs);
    const flags = await Promise.all(owned.map(parentIn));
    const first = owned.find((_, i) => flags[i]) ?? owned[0];
    if (first === undefined) return fail(`a container that is PID 1 of a PID namespace of its own`, `${inits.map((p) => `${who(p)}, hostname ${p.hostname}`).join('; ')}: no PID namespace of its own`, 'Start it with unshare --uts --pid --fork --mount-proc sh, as the step shows.');
    const { where } = await placeOf(first.pid, l);
    const parent = first.status.ppid;
    return fail(
      `PID 1 of the container in ${GROUP}`,
      `${who(first)}, PID 1 of the container (hostname ${first.hostname}), is in ${where}${(await parentIn(first)) ? `; only its parent, PID ${parent} (unshare, outside the PID namespace), is in ${GROUP}` : ''}`,
      `echo ${first.pid} | tee ${dirsOf(l).map((d) => `${d}/cgroup.procs`).join(' ')}`,
    );
  });

const wholeContainerAttached = () =>
  withLayout(`every process of the container's PID namespace is in ${GROUP}`, async (l) => {
    const inits = (await containerInits()).filter(hasOwnPidNs);
    if (inits.length === 0) return noContainer();
    const pids = await listPids();
    const nsOf = await Promise.all(pids.map(async (pid) => (await nsLinks(pid))['pid']));
    let first: Verdict | undefined;
    for (const init of inits) {
      const members = pids.filter((_, i) => nsOf[i] !== undefined && nsOf[i] === init.ns['pid']);
      const places = await Promise.all(members.map(async (pid) => ({ pid, ...(await placeOf(pid, l)) })));
      const out = places.filter((x) => !x.inAll);
      if (out.length === 0) return pass(`all ${members.length} process(es) of ${init.ns['pid'] ?? '?'} (the container with hostname ${init.hostname}) are in ${GROUP}`);
      first ??= fail(`every process of the container (hostname ${init.hostname}) in ${GROUP}`, `${out.length} of ${members.length} outside: ${out.slice(0, 4).map((x) => `PID ${x.pid} in ${x.where}`).join(', ')}`, `Move PID 1 before it starts anything, or move each: echo PID > ${dirsOf(l)[0] ?? GROUP}/cgroup.procs`);
    }
    return first ?? noContainer();
  });

// ---- the reference solution --------------------------------------------------------------

async function writeFileCmd(ctx: SolveContext, value: string, file: string): Promise<void> {
  await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${value} ${file}`;
}

async function createGroup(ctx: SolveContext, l: CgroupLayout): Promise<void> {
  if (l.version === 'v2') {
    const enabled = ((await readCgroupFile(CGROUP_ROOT, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    for (const c of ['pids', 'memory']) if (!enabled.includes(c)) await writeFileCmd(ctx, `+${c}`, `${CGROUP_ROOT}/cgroup.subtree_control`);
  }
  await ctx.$`mkdir -p ${dirsOf(l)}`;
}

/** Waits until the group holds no process (the fork loop's orphans end within a second). */
async function drained(dir: string): Promise<void> {
  for (let i = 0; i < 400 && (await pidsIn(dir)).length > 0; i++) await sleep(10);
}

/** The bounded fork loop: 30 short sleeps against a limit of 20; dash gives up at the first refused fork. */
async function forkLoop(ctx: SolveContext, dir: string | null): Promise<void> {
  const join = dir === null ? '' : `echo $$ > ${dir}/cgroup.procs; `;
  await ctx.$`timeout 10 sh -c ${`${join}for i in $(seq 30); do sleep 0.2 & done; wait`}`.nothrow();
  if (dir !== null) await drained(dir);
}

/** A 64 MiB dd against a limit of 32 MiB: the kernel kills it at once. */
async function memoryHog(ctx: SolveContext, dir: string | null): Promise<void> {
  const join = dir === null ? '' : `echo $$ > ${dir}/cgroup.procs; `;
  await ctx.$`timeout 20 sh -c ${`${join}exec dd if=/dev/zero of=/dev/null bs=64M count=1`}`.nothrow();
}

async function setLimits(ctx: SolveContext, l: CgroupLayout, which: Controller): Promise<void> {
  if (which === 'pids') await writeFileCmd(ctx, String(PIDS_MAX), `${l.dir('pids', GROUP)}/${l.files.pidsMax}`);
  else {
    const dir = l.dir('memory', GROUP);
    // Where there is swap (the Debian VM may have some), the hog would swap instead of dying.
    // v1's memory+swap limit must stay >= the memory limit, so it is written after it.
    if (l.version === 'v2' && (await exists(`${dir}/memory.swap.max`))) await writeFileCmd(ctx, '0', `${dir}/memory.swap.max`);
    await writeFileCmd(ctx, String(MEMORY_MAX), `${dir}/${l.files.memoryMax}`);
    if (l.version === 'v1' && (await exists(`${dir}/${MEMSW}`))) await writeFileCmd(ctx, String(MEMORY_MAX), `${dir}/${MEMSW}`);
  }
}

const allPass = async (ctx: SolveContext, checks: readonly Check[]) => (await Promise.all(checks.map((c) => c.run(ctx)))).every((r) => r.status === 'pass');

/** Removes ws-demo's folder for a controller and makes it again, empty: its counters start at 0. */
async function recreate(ctx: SolveContext, l: CgroupLayout, c: Controller): Promise<void> {
  const dir = l.dir(c, GROUP);
  await killIn(ctx, [dir]);
  if (await exists(dir)) await ctx.$`rmdir ${dir}`;
  await createGroup(ctx, l);
}

// ---- the chapter's processes -------------------------------------------------------------


const gone = async (pid: number) => {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return s === null || /\) Z /.test(s);
};

async function killPids(ctx: SolveContext, pids: readonly number[]): Promise<void> {
  const skip = await ancestors();
  const list = pids.filter((p) => !skip.has(p));
  if (list.length === 0) return;
  await ctx.$`kill -KILL ${list}`.nothrow();
  for (let i = 0; i < 300 && !(await Promise.all(list.map(gone))).every(Boolean); i++) await sleep(10);
}

/** Every process in these groups: they are ours, since the groups are. */
async function killIn(ctx: SolveContext, dirs: readonly string[]): Promise<void> {
  await killPids(ctx, [...new Set((await Promise.all(dirs.map(pidsIn))).flat())]);
}

/** Containers started from the chapter folder: in a UTS namespace of their own, with their cwd there. */
async function chapterContainers(ctx: CheckContext): Promise<number[]> {
  const host = (await hostNamespaces())['uts'];
  if (host === undefined) return [];
  const under = await processesUnder([ctx.dir]);
  const uts = await Promise.all(under.map(async (p) => (await nsLinks(p))['uts']));
  return under.filter((_, i) => uts[i] !== undefined && uts[i] !== host);
}

/** Starts the step's container; returns its PID 1 (the sleep) and unshare's PID, its parent outside. */
async function startContainer(ctx: SolveContext): Promise<{ pid: number; unshare: number }> {
  const before = new Set((await findContainers('container')).map((p) => p.pid));
  await ctx.$`setsid -f unshare --uts --pid --fork --mount-proc sh -c ${'hostname container; exec sleep infinity'} < /dev/null > /dev/null 2>&1`;
  for (let i = 0; i < 500; i++) {
    const fresh = (await findContainers('container')).find((p) => !before.has(p.pid) && p.status.name === 'sleep');
    if (fresh) return { pid: fresh.pid, unshare: fresh.status.ppid };
    await sleep(10);
  }
  throw new Error('the container did not start within 5 s');
}

async function attach(ctx: SolveContext, l: CgroupLayout, pid: number): Promise<void> {
  for (const d of dirsOf(l)) await writeFileCmd(ctx, String(pid), `${d}/cgroup.procs`);
}

const createChecks = () => [groupExists('pids'), groupExists('memory')];
const pidsChecks = () => [limitIs('pids', PIDS_MAX, String(PIDS_MAX), (f) => `echo ${PIDS_MAX} > ${f}`), forkRefused()];
const memoryChecks = () => [limitIs('memory', MEMORY_MAX, '32 MiB', (f) => `echo 32M > ${f}`), oomKilled()];

const solvePids = async (ctx: SolveContext) => {
  const l = await detectLayout();
  if (await allPass(ctx, pidsChecks())) return;
  await createGroup(ctx, l);
  await setLimits(ctx, l, 'pids');
  await forkLoop(ctx, l.dir('pids', GROUP));
};

const solveMemory = async (ctx: SolveContext) => {
  const l = await detectLayout();
  if (await allPass(ctx, memoryChecks())) return;
  await createGroup(ctx, l);
  await setLimits(ctx, l, 'memory');
  await memoryHog(ctx, l.dir('memory', GROUP));
};

/** A limit set, but the work done outside the cgroup: the limit never applied. */
const workOutside = (c: Controller): Mutant => async (ctx) => {
  const l = await detectLayout();
  await recreate(ctx, l, c);
  await setLimits(ctx, l, c);
  if (c === 'pids') await forkLoop(ctx, null);
  else await memoryHog(ctx, null);
};

export default defineChapter({
  formatVersion: 1,
  id: 'cgroups',
  title: 'Limits with cgroups',
  state: ['cgroups', 'namespaces'],
  requires: [kernelFs('cgroup2'), tool('unshare', 'util-linux'), tool('nsenter', 'util-linux'), tool('setsid', 'util-linux'), tool('timeout', 'coreutils')],
  steps: {
    create: {
      verify: createChecks,
      solve: async (ctx) => createGroup(ctx, await detectLayout()),
      hints: ['A cgroup is a folder: mkdir makes one. On cgroup v1 each controller has its own tree.', 'v2: mkdir /sys/fs/cgroup/ws-demo (pids and memory in /sys/fs/cgroup/cgroup.subtree_control); v1: mkdir /sys/fs/cgroup/pids/ws-demo /sys/fs/cgroup/memory/ws-demo'],
      mutants: {
        wrongName: {
          apply: async (ctx) => {
            const l = await detectLayout();
            for (const d of dirsOf(l)) if (await exists(d)) await ctx.$`rmdir ${d}`;
            await ctx.$`mkdir -p ${dirsOf(l).map((d) => `${d}2`)}`;
          },
          diagnosis: /cgroup ws-demo exists[\s\S]*it does not exist/,
        },
      },
    },
    pids: {
      verify: pidsChecks,
      solve: solvePids,
      hints: ['pids.max caps how many processes the group may hold; pids.events counts the refused forks.', 'v2: echo 20 > /sys/fs/cgroup/ws-demo/pids.max; sh -c \'echo $$ > /sys/fs/cgroup/ws-demo/cgroup.procs; for i in $(seq 30); do sleep 5 & done; wait\' (v1: /sys/fs/cgroup/pids/ws-demo instead)'],
      mutants: {
        forkLoopOutside: diagnosed(workOutside('pids'), /no fork was ever refused in this cgroup/),
        limitTooHigh: diagnosed(async (ctx) => {
          const l = await detectLayout();
          await writeFileCmd(ctx, '30', `${l.dir('pids', GROUP)}/${l.files.pidsMax}`);
        }, /pids\.max = 30/),
      },
    },
    memory: {
      verify: memoryChecks,
      solve: solveMemory,
      hints: ['The memory limit is in bytes (32M works too); memory.oom_control (v1) or memory.events (v2) count the OOM kills.', 'v2: echo 32M > /sys/fs/cgroup/ws-demo/memory.max; echo 0 > /sys/fs/cgroup/ws-demo/memory.swap.max; sh -c \'echo $$ > /sys/fs/cgroup/ws-demo/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=64M count=1\' (v1: memory.limit_in_bytes and memory.memsw.limit_in_bytes in /sys/fs/cgroup/memory/ws-demo)'],
      mutants: {
        hogOutside: diagnosed(workOutside('memory'), /nothing was killed in this cgroup/),
        limitTooHigh: diagnosed(async (ctx) => {
          const l = await detectLayout();
          const dir = l.dir('memory', GROUP);
          // v1 refuses a memory limit above memory+swap's: raise that one first.
          if (l.version === 'v1' && (await exists(`${dir}/${MEMSW}`))) await writeFileCmd(ctx, String(64 * MIB), `${dir}/${MEMSW}`);
          await writeFileCmd(ctx, String(64 * MIB), `${dir}/${l.files.memoryMax}`);
        }, /(memory\.limit_in_bytes|memory\.max) = 67108864/),
      },
    },
    attach: {
      verify: () => [containerAttached(), wholeContainerAttached()],
      solve: async (ctx) => {
        if (await allPass(ctx, [containerAttached(), wholeContainerAttached()])) return;
        const l = await detectLayout();
        const found = (await findContainers('container')).find((p) => p.status.name === 'sleep' && p.status.nspid.at(-1) === 1);
        await attach(ctx, l, found?.pid ?? (await startContainer(ctx)).pid);
      },
      hints: ['A process joins a cgroup when its PID is written into cgroup.procs; its children follow it.', 'PID=$(pgrep -n -x sh) is the container\'s PID 1 (not unshare); v2: echo $PID > /sys/fs/cgroup/ws-demo/cgroup.procs; v1: echo $PID | tee /sys/fs/cgroup/pids/ws-demo/cgroup.procs /sys/fs/cgroup/memory/ws-demo/cgroup.procs'],
      mutants: {
        // The limits are set, but the container runs outside the cgroup.
        notAttached: {
          apply: async (ctx) => {
            const l = await detectLayout();
            await killIn(ctx, dirsOf(l));
            await startContainer(ctx);
          },
          diagnosis: /PID 1 of the container \(hostname container\), is in (pids:)?\//,
        },
        // Issue 15: CTHW's `pidof unshare` gives the wrapper, outside the PID namespace. With only
        // it in ws-demo, the container's PID 1 stays in the root cgroup and forks past pids.max.
        onlyTheUnshareWrapper: {
          apply: async (ctx) => {
            const l = await detectLayout();
            await killIn(ctx, dirsOf(l));
            const { unshare } = await startContainer(ctx);
            await attach(ctx, l, unshare);
          },
          diagnosis: /only its parent, PID \d+ \(unshare, outside the PID namespace\), is in ws-demo/,
        },
      },
    },
  },
  removes: async (ctx) => {
    const l = await detectLayout();
    const groups = [...dirsOf(l), ...dirsOf(l).map((d) => `${d}2`)];
    const there = (await Promise.all(groups.map(async (d) => ((await exists(d)) ? [d] : [])))).flat();
    return [...(await chapterContainers(ctx)).map((pid) => `the container process ${pid}`), ...there.map((d) => `the cgroup ${d}, with the processes in it`)];
  },
  cleanup: async (ctx) => {
    // Processes first: a cgroup can be removed only once it is empty.
    const l = await detectLayout();
    const extra = dirsOf(l).map((d) => `${d}2`);
    await killPids(ctx, await chapterContainers(ctx));
    await killIn(ctx, [...dirsOf(l), ...extra]);
    for (const d of [...dirsOf(l), ...extra]) {
      if (!(await exists(d))) continue;
      await drained(d);
      ctx.log(`$ rmdir ${d}`);
      await rmdir(d);
    }
  },
});
