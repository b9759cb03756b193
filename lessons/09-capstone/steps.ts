import { readFile, readdir, readlink, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, buildBusyboxRootfs, kernelFs, file, tool, LAB, labUp, labDown, readLinks, readStatus, nsLinks,
  processesUnder, readMountinfo, mountsUnder, parseOverlayOptions, netnsNames, parseIpAddrs, pingFrom, inSubnet, isExecutableFile,
  type CheckContext, type SolveContext, type Verdict, type Mutant, once,
} from 'workshop/lesson';

const LESSON_DIR = dirname(fileURLToPath(import.meta.url));
const NAMES = ['ws-a', 'ws-b'] as const;
const NAMESPACES = ['uts', 'pid', 'mnt', 'ipc', 'net'] as const;
const GATEWAY = '10.0.0.1';
const SUBNET = '10.0.0.0/16';
const TIMEOUT_MS = 15_000;
/**
 * The time limit of each run check: they share one trial (two ctr run, a fork loop in each, four
 * pings, two ctr rm), which takes ~5 s here and much longer in a TCG guest: far past the default.
 */
const TRIAL_CHECK_MS = 4 * TIMEOUT_MS + 60_000;
/** ./ctr with no arguments: Node starting ctr.ts takes seconds in a slow guest (5 s was too few). */
const USAGE_MS = 20_000;
const USAGE_TS = `// ctr: a mini container runtime. Step 1: only the usage.
const [verb, name] = process.argv.slice(2);
if ((verb !== 'run' && verb !== 'rm') || name === undefined) {
  process.stderr.write('usage: ctr run NAME | ctr rm NAME\\n');
  process.exit(2);
}
process.stderr.write(\`ctr: \${verb} is not written yet\\n\`);
process.exit(1);
`;

/**
 * Runs the learner's ./ctr in the chapter folder. A Node-based ctr keeps its compile cache (the
 * type-stripped ctr.ts, the stripper's own code) in the folder: in a qemu guest without KVM each
 * start took ~2 s without it and ~0.8 s with it, and a verify starts ctr four times.
 */
const runCtr = (ctx: CheckContext, args: readonly string[], timeoutMs: number) =>
  ctx.run('./ctr', args, { cwd: ctx.dir, timeoutMs, env: { NODE_COMPILE_CACHE: ctx.path('.node-compile-cache') } });

/** `ctr` runs ctr.ts with the Node that runs workshop (Node 24 strips the types). */
const wrapper = (): string => `#!/bin/sh\nexec ${process.execPath} "$(dirname "$0")/ctr.ts" "$@"\n`;

async function writeIfChanged(path: string, text: string, log: (l: string) => void): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => null)) === text) return;
  log(`$ cat > ${path} <<'EOF' … EOF`);
  await writeFile(path, text);
}

async function installCtr(ctx: SolveContext, ts: string): Promise<void> {
  await writeIfChanged(ctx.path('ctr.ts'), ts, ctx.log);
  await writeIfChanged(ctx.path('ctr'), wrapper(), ctx.log);
  await ctx.$`chmod +x ctr`;
}

/** The cgroup folder of a process's pids controller, on v1 (hybrid) or v2. */
async function pidsCgroupOf(pid: number): Promise<string | null> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls === undefined || path === undefined) continue;
    if (ctrls.split(',').includes('pids')) return join('/sys/fs/cgroup/pids', path);
    if (line.startsWith('0::') && (await stat('/sys/fs/cgroup/cgroup.controllers').then(() => true, () => false))) return join('/sys/fs/cgroup', path);
  }
  return null;
}

const wsCgroups = async (): Promise<string[]> => {
  const tops = ['/sys/fs/cgroup', '/sys/fs/cgroup/pids'];
  const lists = await Promise.all(tops.map(async (t) => (await readdir(t).catch(() => [] as string[])).filter((n) => n.startsWith('ws')).map((n) => join(t, n))));
  return lists.flat();
};

/**
 * Removes what the capstone's containers may have left: processes rooted in the chapter folder,
 * mounts under it, their cgroups and veths. Used after every trial and by cleanup.
 */
async function forceClean(ctx: CheckContext, cgroupsBefore: readonly string[] = [], seen?: readonly number[]): Promise<void> {
  // `seen`: the processes a trial's residue scan just found there, which spares a scan of /proc.
  const procs = seen ?? (await processesUnder([ctx.path('containers')]));
  for (const pid of procs) await ctx.run('kill', ['-9', String(pid)]);
  // Wait until they are gone: a dying container found by the next trial has no mount table left
  // (open /proc/PID/mountinfo fails with EINVAL), which would read as a broken container.
  for (let i = 0; i < 300 && procs.length > 0 && (await processesUnder([ctx.path('containers')])).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  for (const m of mountsUnder(await readMountinfo(), ctx.path('containers')).reverse()) await ctx.run('umount', ['-l', m.mountPoint]);
  for (const cg of (await wsCgroups()).filter((c) => c.includes('ws-ctr') && !cgroupsBefore.includes(c))) {
    for (let i = 0; i < 50; i++) if (await rmdir(cg).then(() => true, () => false)) break; else await new Promise((r) => setTimeout(r, 20));
  }
  const links = await readLinks(LAB.host).catch(() => []);
  for (const l of links.filter((x) => x.ifname.startsWith('vc-'))) await ctx.run('ip', ['-n', LAB.host, 'link', 'del', l.ifname]);
  await ctx.run('rm', ['-rf', '--one-file-system', ctx.path('containers')]);
}

interface Box {
  name: string;
  run: { code: number | null; timedOut: boolean; stderr: string };
  pid: number | null;
  ns: Record<string, string>;
  hostname: string;
  nspid: number[];
  rootFs: string;
  lowerdirs: string[];
  oldRootMounts: string[];
  cgroup: string | null;
  pidsMax: string | null;
  forkStopped: boolean;
  forkOutput: string;
  addr: string | null;
}

interface Trial {
  boxes: Box[];
  hostNs: Record<string, string>;
  pings: Array<{ from: string; to: string; ok: boolean; summary: string }>;
  rm: Array<{ name: string; code: number | null; timedOut: boolean; stderr: string }>;
  residue: string[];
}

/**
 * The hostname of each process, read with one nsenter per UTS namespace (not one per process and
 * container): the next process of a namespace is tried when one has ended meanwhile.
 */
async function hostnames(ctx: CheckContext, pids: readonly number[]): Promise<Map<number, string>> {
  const byNs = new Map<string, number[]>();
  for (const pid of pids) {
    const ns = await readlink(`/proc/${pid}/ns/uts`).catch(() => null);
    if (ns !== null) byNs.set(ns, [...(byNs.get(ns) ?? []), pid]);
  }
  const names = new Map<number, string>();
  await Promise.all([...byNs.values()].map(async (group) => {
    for (const pid of group) {
      const h = await ctx.run('nsenter', ['-t', String(pid), '-u', 'hostname'], { timeoutMs: 5000 });
      if (h.code !== 0) continue;
      for (const p of group) names.set(p, h.stdout.trim());
      return;
    }
  }));
  return names;
}

async function inspect(ctx: CheckContext, name: string, run: Box['run'], pids: readonly number[], names: ReadonlyMap<number, string>): Promise<Box> {
  const box: Box = { name, run, pid: null, ns: {}, hostname: '', nspid: [], rootFs: '', lowerdirs: [], oldRootMounts: [], cgroup: null, pidsMax: null, forkStopped: false, forkOutput: '', addr: null };
  // The container's first process: the one whose hostname is NAME, outermost in its tree.
  // (unshare itself has the new hostname too, but is not in the new PID namespace.)
  const named = pids.filter((pid) => names.get(pid) === name);
  const statuses = await Promise.all(named.map(async (pid) => ({ pid, nspid: (await readStatus(pid))?.nspid ?? [] })));
  box.pid = (statuses.find((s) => s.nspid.length > 1 && s.nspid.at(-1) === 1) ?? statuses[0])?.pid ?? null;
  if (box.pid === null) return box;
  const pid = box.pid;
  box.hostname = name;
  box.ns = await nsLinks(pid);
  box.nspid = (await readStatus(pid))?.nspid ?? [];
  // EINVAL when the process is exiting: its mount namespace is already gone.
  const theirs = await readMountinfo(pid).catch(() => []);
  const root = theirs.filter((m) => m.mountPoint === '/').at(-1);
  box.rootFs = root?.fsType ?? '';
  box.lowerdirs = root?.fsType === 'overlay' ? parseOverlayOptions(root.superOptions).lowerdirs : [];
  // pivot_root done right leaves no mount of the host's root file system in the container.
  const hostRoot = (await readMountinfo()).filter((m) => m.mountPoint === '/').at(-1);
  box.oldRootMounts = theirs.filter((m) => hostRoot !== undefined && m.majorMinor === hostRoot.majorMinor && m.mountPoint !== '/').map((m) => m.mountPoint);
  box.cgroup = await pidsCgroupOf(pid);
  box.pidsMax = box.cgroup === null ? null : ((await readFile(join(box.cgroup, 'pids.max'), 'utf8').catch(() => null))?.trim() ?? null);
  const limit = Number(box.pidsMax);
  if (box.cgroup !== null && Number.isInteger(limit) && limit > 0 && limit <= 256) {
    // A process joins the container's cgroup and its PID namespace and forks past the limit. It
    // keeps the host's file system: busybox sh cannot start a background job without /dev/null.
    // The sleeps are long, so that they are all alive at once however slow the machine (with 0.5 s
    // sleeps, a guest under qemu's TCG started them slower than they ended and never reached the
    // limit); the shell kills them when it ends, also when dash gives up at the refused fork, and
    // they do not hold the run's pipes open (rm kills whatever is left with the PID namespace).
    const loop = `trap "kill \\$p 2>/dev/null" EXIT; p=; i=0; while [ $i -lt ${limit + 4} ]; do sleep 30 >/dev/null 2>&1 & p="$p $!"; i=$((i+1)); done`;
    const r = await ctx.run('sh', ['-c', `echo $$ > ${box.cgroup}/cgroup.procs && exec nsenter -t ${pid} -p sh -c '${loop}'`], { timeoutMs: 10_000 });
    box.forkOutput = `${r.stderr}${r.stdout}`.trim().split('\n').slice(-1)[0] ?? '';
    box.forkStopped = /can't fork|Resource temporarily unavailable|Cannot fork/i.test(`${r.stderr}${r.stdout}`);
  }
  const a = await ctx.run('nsenter', ['-t', String(pid), '-n', 'ip', '-j', 'addr', 'show'], { timeoutMs: 5000 });
  box.addr = a.code === 0 ? (parseIpAddrs(a.stdout).flatMap((l) => l.addrs).find((x) => x.family === 'inet' && inSubnet(x.local, SUBNET))?.local ?? null) : null;
  return box;
}

/** Starts the two containers with the learner's ctr, looks at them, removes them, and looks again. */
async function runTrial(ctx: CheckContext): Promise<Trial> {
  const cgroupsBefore = await wsCgroups();
  const linksBefore = (await readLinks(LAB.host).catch(() => [])).map((l) => l.ifname);
  let left: number[] | undefined;
  try {
    const runs: Box['run'][] = [];
    for (const name of NAMES) {
      const r = await runCtr(ctx, ['run', name], TIMEOUT_MS);
      runs.push({ code: r.code, timedOut: r.timedOut, stderr: r.stderr.trim().split('\n').slice(-2).join(' / ') });
    }
    const pids = (await processesUnder([ctx.dir])).sort((x, y) => x - y);
    const names = await hostnames(ctx, pids);
    const boxes = await Promise.all(NAMES.map((name, i) => inspect(ctx, name, runs[i] ?? { code: null, timedOut: false, stderr: '' }, pids, names)));
    const pairs = boxes.flatMap((b) => (b.pid === null ? [] : [GATEWAY, ...boxes.filter((o) => o !== b && o.addr !== null).map((o) => o.addr ?? '')].map((to) => ({ b, to }))));
    const pings: Trial['pings'] = await Promise.all(pairs.map(async ({ b, to }) => ({ from: b.name, to, ...(await pingFrom(`pid:${b.pid ?? 0}`, to)) })));
    const rm: Trial['rm'] = [];
    for (const name of NAMES) {
      const r = await runCtr(ctx, ['rm', name], TIMEOUT_MS);
      rm.push({ name, code: r.code, timedOut: r.timedOut, stderr: r.stderr.trim() });
    }
    // A container's root lies under containers/; the learner's own shell, whose cwd is the
    // chapter folder (cd $(workshop path)), is not residue.
    left = await processesUnder([ctx.path('containers')]);
    const residue = [
      ...left.map((p) => `process ${p}`),
      ...mountsUnder(await readMountinfo(), ctx.dir).map((m) => `mount ${m.mountPoint}`),
      ...(await wsCgroups()).filter((c) => !cgroupsBefore.includes(c)).map((c) => `cgroup ${c}`),
      ...(await readLinks(LAB.host).catch(() => [])).filter((l) => !linksBefore.includes(l.ifname)).map((l) => `link ${l.ifname} in ${LAB.host}`),
    ];
    return { boxes, hostNs: await nsLinks(1), pings, rm, residue };
  } finally {
    await forceClean(ctx, cgroupsBefore, left);
  }
}

/** Chapter 07's result, which ctr plugs into: the lab with br0 at 10.0.0.1/16 in ws-host. Idempotent. */
async function labWithBridge(ctx: SolveContext): Promise<void> {
  await labUp((l) => ctx.log(`$ ${l}`));
  if (!(await readLinks(LAB.host)).some((l) => l.ifname === 'br0')) await ctx.$`ip netns exec ${LAB.host} ip link add br0 type bridge`;
  await ctx.$`ip netns exec ${LAB.host} ip addr replace 10.0.0.1/16 dev br0`;
  await ctx.$`ip netns exec ${LAB.host} ip link set br0 up`;
}

/** A check about each started container; fails with the reason when one did not start. */
const eachBox = (name: string, trial: () => Promise<Trial>, judge: (b: Box, t: Trial) => Verdict) =>
  defineCheck(name, async () => {
    const t = await trial();
    const verdicts: string[] = [];
    for (const b of t.boxes) {
      if (b.pid === null) return fail(`container ${b.name} running`, b.run.timedOut ? `./ctr run ${b.name} hung for ${TIMEOUT_MS / 1000} s and was killed` : `no process with hostname ${b.name} under this folder (ctr run exit ${b.run.code ?? 'signal'}${b.run.stderr ? `: ${b.run.stderr}` : ''})`);
      const v = judge(b, t);
      if (!v.ok) return fail(`${b.name}: ${v.expected}`, v.actual, v.hint);
      verdicts.push(`${b.name}: ${v.actual}`);
    }
    return pass(verdicts.join('; '));
  }, { timeoutMs: TRIAL_CHECK_MS });

/** A mutant that edits one line of the installed ctr.ts; re-solving writes the reference back. */
function editCtr(from: string, to: string): Mutant {
  return async (ctx) => {
    const text = await readFile(ctx.path('ctr.ts'), 'utf8');
    if (!text.includes(from)) throw new Error(`mutant: "${from}" is not in ctr.ts`);
    await writeFile(ctx.path('ctr.ts'), text.replace(from, to));
  };
}

export default defineChapter({
  formatVersion: 1,
  id: 'capstone',
  title: 'Capstone: a mini container runtime',
  state: ['overlayfs', 'namespaces', 'cgroups'],
  requires: [kernelFs('overlay'), file('/bin/busybox', 'busybox-static'), tool('unshare', 'util-linux'), tool('nsenter', 'util-linux'), tool('ip', 'iproute2'), tool('ping', 'iputils-ping')],
  setup: async (ctx) => {
    await buildBusyboxRootfs(ctx, ctx.path('base'));
    await labWithBridge(ctx);
  },
  steps: {
    script: {
      verify: () => [
        isExecutableFile('ctr'),
        defineCheck('./ctr without arguments prints its usage and fails', async (ctx) => {
          const r = await runCtr(ctx, [], USAGE_MS);
          if (r.timedOut) return fail('./ctr to exit at once', `it hung for ${USAGE_MS / 1000} s and was killed`);
          const text = `${r.stderr}${r.stdout}`;
          return r.code !== 0 && /usage/i.test(text) ? pass(`exit ${r.code ?? 'signal'}: ${text.trim().split('\n')[0] ?? ''}`) : fail('a non-zero exit and a usage line', `exit ${r.code ?? 'signal'}: ${text.trim().slice(0, 120) || '(no output)'}`, 'Print "usage: ctr run NAME | ctr rm NAME" and exit 2.');
        }, { timeoutMs: USAGE_MS + 5000 }),
      ],
      solve: async (ctx) => {
        if ((await readFile(ctx.path('ctr.ts'), 'utf8').catch(() => '')).includes('function run(')) return;
        await installCtr(ctx, USAGE_TS);
      },
      hints: ['Start ctr with its usage: two verbs, run and rm, and a NAME.', 'A shell script works: case "$1" in run) …;; rm) …;; *) echo "usage: ctr run NAME | ctr rm NAME" >&2; exit 2;; esac'],
      mutants: {
        notExecutable: diagnosed(async ({ $ }) => {
          await $`chmod -x ctr`;
        }, /an execute bit \(x\)/),
      },
    },
    run: {
      verify: (ctx) => {
        const trial = once(() => runTrial(ctx));
        return [
          defineCheck(`./ctr run ${NAMES.join(' and ')} start two containers`, async () => {
            const t = await trial();
            const bad = t.boxes.find((b) => b.pid === null);
            if (bad) return fail(`a process with hostname ${bad.name}, rooted in this folder`, bad.run.timedOut ? `./ctr run ${bad.name} hung for ${TIMEOUT_MS / 1000} s and was killed: it must start the container in the background and return` : `none (ctr run exit ${bad.run.code ?? 'signal'}${bad.run.stderr ? `: ${bad.run.stderr}` : ''})`, 'ctr run must return once the container runs; the container goes on in the background.');
            return pass(t.boxes.map((b) => `${b.name}: PID ${b.pid ?? '?'}`).join(', '));
          }, { timeoutMs: TRIAL_CHECK_MS }),
          eachBox('each has its own uts, pid, mnt, ipc and net namespace', trial, (b, t) => {
            const shared = NAMESPACES.filter((n) => b.ns[n] === undefined || b.ns[n] === t.hostNs[n] || t.boxes.some((o) => o !== b && o.ns[n] === b.ns[n]));
            return shared.length === 0 ? pass('5 namespaces of its own') : fail('its own uts, pid, mnt, ipc and net namespaces', `shared with the host or the other container: ${shared.join(', ')}`, 'unshare --uts --pid --fork --mount --ipc --net');
          }),
          eachBox('it runs as PID 1 of its PID namespace', trial, (b) => (b.nspid.at(-1) === 1 && b.nspid.length > 1 ? pass(`NSpid ${b.nspid.join(' ')}`) : fail('NSpid ending in 1', `NSpid ${b.nspid.join(' ')}`, 'unshare --pid needs --fork, so that its child is PID 1.'))),
          eachBox('its root is an overlay on base', trial, (b) => (b.rootFs === 'overlay' && b.lowerdirs.includes(ctx.path('base')) ? pass(`overlay, lowerdir ${b.lowerdirs.join(':')}`) : fail(`/ an overlay with lowerdir ${ctx.path('base')}`, `${b.rootFs || 'nothing'}${b.lowerdirs.length ? `, lowerdir ${b.lowerdirs.join(':')}` : ''}`))),
          eachBox('the old root is gone (pivot_root)', trial, (b) => (b.oldRootMounts.length === 0 ? pass("no mount of the host's root file system inside") : fail("no mount of the host's root inside", `still mounted: ${b.oldRootMounts.join(', ')}`, 'After pivot_root . .oldroot, umount -l /.oldroot'))),
          eachBox('pids.max holds inside the container', trial, (b) => {
            if (b.cgroup === null || b.pidsMax === null) return fail('a pids cgroup with pids.max', `the container is in ${b.cgroup ?? 'no pids cgroup'}, which has no pids.max`, 'Write the container\'s PID (or the shell before it execs unshare) into cgroup.procs.');
            // systemd puts every session in a scope with a pids.max of its own (TasksMax): a limit, but not ctr's
            if (!basename(b.cgroup).startsWith('ws')) return fail('a pids cgroup of its own (ws-ctr-NAME)', `the container is in ${b.cgroup}, not in a cgroup of its own; that pids.max (${b.pidsMax}) is not ctr's`, 'Write the container\'s PID (or the shell before it execs unshare) into its cgroup.procs.');
            if (b.pidsMax === 'max') return fail('a number in pids.max', 'max (no limit)');
            return b.forkStopped ? pass(`${b.cgroup}: pids.max ${b.pidsMax}; fork stopped: ${b.forkOutput}`) : fail(`fork stopped at pids.max ${b.pidsMax}`, `forking past it worked: ${b.forkOutput || 'no error'}`);
          }),
          defineCheck(`each reaches the other and ${GATEWAY} (1 ping, 1 s each)`, async () => {
            const t = await trial();
            if (t.boxes.some((b) => b.pid === null)) return fail('two running containers', 'a container did not start');
            const noAddr = t.boxes.find((b) => b.addr === null);
            if (noAddr) return fail(`${noAddr.name} with an address in ${SUBNET}`, 'none', 'Add a veth: one end in br0 of ws-host, the other in the container, with an address from 10.0.0.0/16.');
            const lost = t.pings.filter((p) => !p.ok);
            return lost.length === 0 && t.pings.length === 4 ? pass(t.pings.map((p) => `${p.from} -> ${p.to}`).join(', ')) : fail('4 replies', lost.map((p) => `${p.from} -> ${p.to}: ${p.summary}`).join('; '), 'Is the host end attached to br0 (master br0) and up, and is there a default route?');
          }, { timeoutMs: TRIAL_CHECK_MS }),
          defineCheck('./ctr rm leaves no residue', async () => {
            const t = await trial();
            const bad = t.rm.find((r) => r.code !== 0);
            if (bad) return fail(`./ctr rm ${bad.name} to exit 0`, bad.timedOut ? `it hung for ${TIMEOUT_MS / 1000} s and was killed` : `exit ${bad.code ?? 'signal'}: ${bad.stderr}`);
            return t.residue.length === 0 ? pass('no process, mount, cgroup or link left') : fail('nothing left', t.residue.join(', '), 'rm must kill the container, unmount its overlay, remove its cgroup and its veth.');
          }, { timeoutMs: TRIAL_CHECK_MS }),
        ];
      },
      solve: async (ctx) => {
        await labWithBridge(ctx);
        await installCtr(ctx, await readFile(join(LESSON_DIR, 'ctr.ts'), 'utf8'));
      },
      hints: [
        'Build it in the order of the step: the overlay (with merged/.oldroot), then the cgroup with pids.max, then unshare with pivot_root, started from a shell that is already in the cgroup, then the veth. Test each with ./ctr run a; ./ctr rm a. ctr rm needs kill -KILL: PID 1 of a PID namespace ignores SIGTERM without a handler.',
        'The reference is ctr.ts next to this chapter\'s steps.ts (workshop solve installs it): read it part by part.',
      ],
      mutants: {
        noPidNamespace: diagnosed(editCtr(' --pid --fork', ' --fork'), /shared with the host or the other container: pid/),
        oldRootStillMounted: diagnosed(editCtr('umount -l /.oldroot && rmdir /.oldroot && ', ''), /still mounted: \/\.oldroot/),
        limitWithoutTheProcess: diagnosed(editCtr('echo $$ > ${cg}/cgroup.procs && ', ''), /which has no pids\.max|not in a cgroup of its own/),
        vethWithoutMaster: diagnosed(editCtr("'master', BRIDGE, ", ''), /attached to br0 \(master br0\)/),
        // rm fails on the busy mount point (EBUSY) where it shares the overlay's mount namespace;
        // in Debian 13's guest it removed the folder and exited 0, and the residue names the mount.
        rmLeavesTheOverlay: diagnosed(editCtr("sh('umount', merged)", 'void merged'), /ctr rm leaves no residue[\s\S]*(?:Device or resource busy|actual\s+mount \S*\/merged)/),
      },
    },
  },
  cleanup: async (ctx) => {
    await forceClean(ctx);
    await labDown((l) => ctx.log(`$ ${l}`));
  },
  removes: async (ctx) => {
    const containers = ctx.path('containers');
    const there = new Set(await netnsNames());
    return [
      ...(await processesUnder([containers])).map((pid) => `the container process ${pid}`),
      ...mountsUnder(await readMountinfo(), containers).map((m) => `the mount at ${m.mountPoint} (${m.fsType})`),
      ...(await wsCgroups()).filter((c) => c.includes('ws-ctr')).map((c) => `the cgroup ${c}`),
      ...((await stat(containers).catch(() => null)) ? ['containers/, the layers of your containers'] : []),
      ...[LAB.box, LAB.host, LAB.net].filter((n) => there.has(n)).map((n) => `the network namespace ${n}`),
    ];
  },
});
