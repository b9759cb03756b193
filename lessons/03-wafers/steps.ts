import { lstat, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, verdictOf, buildBusyboxRootfs, readMountinfo, mountsUnder, judgeOverlay, stackExpectation, readAncestry,
  waferStacked, overlayMounted, notMountedAt, isStaticExecutable, symlinkTo, isExecutableFile, fileContains, pathAbsent, directoryExists,
  containersUnder, kernelFs, file, tool, which, waferStackedAlone, ROOTFS_DIRS,
  type CheckContext, type Check, type Mutant, type SolveContext, type Verdict,
} from 'workshop/lesson';

const W = 'wafers';
/** The stack-by-hand step's mount, as its text types it. */
const MOUNT_BY_HAND = 'mount -t overlay overlay -o lowerdir=wafers/archbase/data,upperdir=wafers/archbase2/data,workdir=wafers/archbase2/work machines/archbase2';
const S = 'machines';
const BASE = 'archbase';
const CHILD = 'archbase2';
const SCRIPT = 'bin/wafers';
/** The reference script shipped next to this file. */
const REFERENCE_SCRIPT = fileURLToPath(new URL('./wafers', import.meta.url));
const data = (w: string) => `${W}/${w}/data`;
const exists = (p: string) => stat(p).then(() => true, () => false);

/** Unmounts everything stacked at p, then what is left under it. */
async function unmountAll(ctx: SolveContext, p: string): Promise<void> {
  for (const m of mountsUnder(await readMountinfo(), p)) await ctx.$`umount ${m.mountPoint}`;
}

/** Mounts the stack of `name` at machines/NAME the way the parent files say, as the script would. */
async function stackByHand(ctx: SolveContext, name: string, opts: { lower?: string[]; upper?: string; source?: string } = {}): Promise<void> {
  const a = await readAncestry(ctx.path(W), name);
  if (!a.ok) throw new Error(a.reason);
  const want = stackExpectation(ctx.path(W), a.chain);
  const lower = opts.lower ?? want.lower ?? [];
  const at = ctx.path(S, name);
  await ctx.$`mkdir -p ${ctx.path(W, name, 'work')} ${at}`;
  await unmountAll(ctx, at);
  await ctx.$`mount -t overlay ${opts.source ?? 'overlay'} -o ${`lowerdir=${lower.join(':')},upperdir=${opts.upper ?? want.upper ?? ''},workdir=${want.work ?? ''}`} ${at}`;
}

/** The file holds this chapter's nonce: it was written during this run, not left from an older one. */
const holdsNonce = (p: string): Check => defineCheck(`${p} holds the chapter nonce`, (ctx) => verdictOf(fileContains(p, ctx.nonce), ctx));

/**
 * busybox --install -s exits 0 even when sbin, usr/bin and usr/sbin are missing: it then makes
 * only the 77 links that go to bin/ (measured). The folders and a link in usr/bin prove the full install.
 */
const busyboxFullyInstalled = (root: string): Check =>
  defineCheck(`${root} has the four folders and busybox's links in all of them`, async (ctx) => {
    const missing = [];
    for (const d of ROOTFS_DIRS) if (!(await exists(ctx.path(root, d)))) missing.push(d);
    const folders = `${root}/{${ROOTFS_DIRS.join(',')}}`;
    const again = `mkdir -p ${folders}; chroot ${root} /bin/busybox --install -s`;
    if (missing.length > 0) return fail(`${folders} before busybox --install -s`, `missing: ${missing.map((d) => `${root}/${d}`).join(', ')}: --install put only the links that go to bin/`, `${again} (running it again after the folders exist makes the rest)`);
    const env = await lstat(ctx.path(root, 'usr/bin/env')).catch(() => null);
    if (env === null || !env.isSymbolicLink()) return fail(`${root}/usr/bin/env, a link to /bin/busybox`, `${root}/usr/bin/env: ${env === null ? 'nothing there' : 'not a symlink'}: --install ran before the folders existed`, again);
    return pass(`${ROOTFS_DIRS.join(', ')} exist; usr/bin/env is a link`);
  });

/** A note written from inside the stack by systemd-nspawn (chroot where nspawn cannot run). */
async function runInStack(ctx: SolveContext, stack: string, script: string): Promise<void> {
  // Without systemd as PID 1 and D-Bus, nspawn runs only with --register=no --keep-unit.
  const nspawn = (await which('systemd-nspawn')) ? await ctx.$`systemd-nspawn -q -D ${stack} --register=no --keep-unit /bin/sh -c ${script}`.nothrow() : null;
  if (nspawn === null || nspawn.exitCode !== 0) await ctx.$`chroot ${stack} /bin/sh -c ${script}`;
}

const isStackedRight = async (ctx: CheckContext, name: string): Promise<boolean> => (await waferStacked(S, W, name).run(ctx)).status === 'pass';

/** A mutant of the stack-by-hand step: the stack remounted with other layers. */
const restackAs = (layers: (ctx: SolveContext) => { lower: string[]; upper: string }): Mutant => async (ctx) => {
  await ctx.$`mkdir -p ${ctx.path(W, 'decoy', 'data')}`;
  await stackByHand(ctx, CHILD, layers(ctx));
};

/**
 * A note that belongs in the child's data was written into the parent's. It leaves the parent
 * (a lower layer, changed under a mounted overlay: the stack is mounted afresh to see it).
 */
async function outOfTheParent(ctx: SolveContext, note: string): Promise<void> {
  if (!(await exists(ctx.path(data(BASE), note)))) return;
  await ctx.$`rm -f ${ctx.path(data(BASE), note)}`;
  await stackByHand(ctx, CHILD);
}

/** How to leave a state that no solution can repair: the wafer's own data was thrown away. */
const restoreTo = (ctx: CheckContext, step: string) => `workshop goto ${ctx.chapter}/${step} --restore`;

// --- the script step: the learner's script on a three-level chain, in a folder of its own ---------

const CHAIN = ['ws-check-a', 'ws-check-b', 'ws-check-c'] as const;
type ScriptFacts = { ran: Verdict; stacked: Verdict; landsOnTop: Verdict; unstacked: Verdict; restacked: Verdict };

async function runScriptOnChain(ctx: CheckContext): Promise<ScriptFacts> {
  const root = ctx.path('.wafers-check');
  const env = { ...process.env, WAFERS: join(root, 'wafers'), STACKS: join(root, 'machines') } as Record<string, string>;
  const [a, b, c] = CHAIN;
  const notRun = fail('the step before it to pass', 'not run');
  const facts: ScriptFacts = { ran: notRun, stacked: notRun, landsOnTop: notRun, unstacked: notRun, restacked: notRun };
  const wafers = async (args: string[]): Promise<Verdict> => {
    const shown = `${SCRIPT} ${args.join(' ')}`;
    // GNU timeout kills the script's whole process group: a `sleep` it started would otherwise
    // hold the output pipe open long after the script itself was killed.
    const r = await ctx.run('timeout', ['-k', '1', '10', ctx.path(SCRIPT), ...args], { cwd: ctx.dir, env, timeoutMs: 15_000 });
    if (r.timedOut || r.code === 124 || r.code === 137) return fail(`${shown} to finish`, 'it hung for 10 s and was killed', 'Does something wait for input? The script must not start a shell.');
    if (r.code !== 0) return fail(`${shown} to exit 0`, `exit ${r.code ?? 'signal'}: ${r.stderr.trim().split('\n').slice(-2).join(' / ') || '(no message)'}`);
    return pass(shown);
  };
  try {
    await rm(root, { recursive: true, force: true });
    await ctx.run('mkdir', ['-p', join(root, 'wafers', a, 'data'), join(root, 'machines')]);
    await writeFile(join(root, 'wafers', a, 'data', 'from-a'), 'a\n');
    for (const args of [['stack', b, a], ['stack', c, b]]) {
      facts.ran = await wafers(args);
      if (!facts.ran.ok) return facts;
    }
    facts.ran = pass(`stack ${b} ${a}; stack ${c} ${b}: both exit 0`);
    const expect = stackExpectation(join(root, 'wafers'), [c, b, a]);
    facts.stacked = judgeOverlay(await readMountinfo(), join(root, 'machines', c), expect, ctx.dir);
    if (!facts.stacked.ok) return facts;
    await writeFile(join(root, 'machines', c, 'probe.txt'), ctx.nonce);
    const where = await Promise.all(CHAIN.map((w) => exists(join(root, 'wafers', w, 'data', 'probe.txt'))));
    facts.landsOnTop = where.join() === 'false,false,true' ? pass(`probe.txt is only in ${c}/data`) : fail(`probe.txt only in ${c}/data`, `in ${CHAIN.filter((_, i) => where[i]).join(', ') || 'no wafer'}`);
    const un = await wafers(['unstack', c, b]);
    const left = (await readMountinfo()).filter((m) => m.mountPoint.startsWith(join(root, 'machines') + '/'));
    const kept = await exists(join(root, 'wafers', c, 'data', 'probe.txt'));
    facts.unstacked = !un.ok ? un : left.length > 0 ? fail('no stack mounted after unstack', `still mounted: ${left.map((m) => m.mountPoint).join(', ')}`) : kept ? pass(`unstack ${c} ${b}: unmounted, the wafer data stays`) : fail(`${c}/data/probe.txt kept after unstack`, 'it is gone');
    if (!facts.unstacked.ok) return facts;
    const re = await wafers(['stack', c]);
    facts.restacked = re.ok ? judgeOverlay(await readMountinfo(), join(root, 'machines', c), expect, ctx.dir) : re;
    if (!facts.restacked.ok) facts.restacked = fail(`stack ${c} (no parent given) stacks it on ${b} and ${a} again`, facts.restacked.actual, 'Remember the parent in $WAFERS/NAME/parent the first time.');
    return facts;
  } finally {
    // A half-made stack must not outlive the check: unmount whatever the script left, deepest first.
    for (const m of mountsUnder(await readMountinfo(), root)) await ctx.run('umount', ['-l', m.mountPoint]);
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

/** The script runs once per verification; its checks share the facts. */
function scriptChecks(): Check[] {
  let facts: Promise<ScriptFacts> | undefined;
  const get = (ctx: CheckContext) => (facts ??= runScriptOnChain(ctx));
  const [a, b, c] = CHAIN;
  // The script runs up to four times, each with its own 10 s limit: the checks wait for all of them.
  const fact = (name: string, pick: (f: ScriptFacts) => Verdict) => defineCheck(name, async (ctx) => pick(await get(ctx)), { timeoutMs: 60_000 });
  return [
    fact(`${SCRIPT} stack ${b} ${a} and stack ${c} ${b} succeed`, (f) => f.ran),
    fact(`the stack of ${c}: lowerdir ${b}:${a} (nearest parent first), upperdir and workdir of ${c}`, (f) => f.stacked),
    fact(`a file written in the stack lands only in ${c}/data`, (f) => f.landsOnTop),
    fact(`${SCRIPT} unstack ${c} ${b} unmounts them and keeps the data`, (f) => f.unstacked),
    fact(`${SCRIPT} stack ${c} without a parent remembers it`, (f) => f.restacked),
  ];
}

/** A script mutant: the reference script with one line changed. */
const scriptWith = (from: string, to: string): Mutant => async (ctx) => {
  const text = await readFile(REFERENCE_SCRIPT, 'utf8');
  if (!text.includes(from)) throw new Error(`the reference script has no line ${from}`);
  await writeFile(ctx.path(SCRIPT), text.replace(from, to), { mode: 0o755 });
};
const LOWER_LINE = 'lower="${lower:+$lower:}$WAFERS/$w/data"';
const MOUNT_OPTS = '"lowerdir=$lower,upperdir=$WAFERS/$name/data,workdir=$WAFERS/$name/work"';

/**
 * machines/archbase2 stacked by hand with the step's layers. Seen in the walk: with the layers
 * swapped the row named it but had no way out, and the step's own mount line then mounts a
 * second overlay over the wrong one. The way out unmounts it first.
 */
const stackedByHand = (): Check => {
  const plain = overlayMounted(`${S}/${CHILD}`, { lower: [data(BASE)], upper: data(CHILD), work: `${W}/${CHILD}/work`, writable: true });
  return defineCheck(plain.name, async (ctx) => {
    const v = await verdictOf(plain, ctx);
    if (v.ok || v.hint !== undefined || mountsUnder(await readMountinfo(), ctx.path(S, CHILD)).length === 0) return v;
    return { ...v, hint: `Unmount it, then mount it with this step's layers: umount ${S}/${CHILD}; ${MOUNT_BY_HAND}` };
  });
};

export default defineChapter({
  formatVersion: 1,
  id: 'wafers',
  title: 'Wafer stacks: overlays of overlays',
  state: 'wafers',
  requires: [kernelFs('overlay'), file('/bin/busybox', 'busybox-static'), tool('bash'), tool('mountpoint', 'util-linux')],
  env: (ctx) => ({ WAFERS: ctx.path(W), STACKS: ctx.path(S) }),
  steps: {
    base: {
      verify: () => [isStaticExecutable(`${data(BASE)}/bin/busybox`), symlinkTo(`${data(BASE)}/bin/sh`, '/bin/busybox', { root: data(BASE) }), busyboxFullyInstalled(data(BASE))],
      solve: async (ctx) => {
        await buildBusyboxRootfs(ctx, ctx.path(data(BASE)));
        // --install run before the folders existed left them without links: run it again.
        const env = await lstat(ctx.path(data(BASE), 'usr/bin/env')).catch(() => null);
        if (env === null || !env.isSymbolicLink()) await ctx.$`chroot ${ctx.path(data(BASE))} /bin/busybox --install -s`;
      },
      hints: ['Build a busybox rootfs in wafers/archbase/data, as in chapter 01: the four folders first.', 'mkdir -p wafers/archbase/data/{bin,sbin,usr/bin,usr/sbin}; cp /bin/busybox wafers/archbase/data/bin/; chroot wafers/archbase/data /bin/busybox --install -s'],
      mutants: {
        installBeforeFolders: {
          // The chapter's own warning: only bin/ exists when --install runs.
          apply: async (ctx) => {
            await ctx.$`rm -rf ${ctx.path(W, BASE)}`;
            await ctx.$`mkdir -p ${ctx.path(data(BASE), 'bin')}`;
            await ctx.$`cp /bin/busybox ${ctx.path(data(BASE), 'bin/busybox')}`;
            await ctx.$`chroot ${ctx.path(data(BASE))} /bin/busybox --install -s`.quiet().nothrow();
          },
          diagnosis: /missing: wafers\/archbase\/data\/sbin, wafers\/archbase\/data\/usr\/bin, wafers\/archbase\/data\/usr\/sbin/,
        },
      },
    },
    child: {
      verify: () => [directoryExists(data(CHILD)), fileContains(`${W}/${CHILD}/parent`, BASE)],
      solve: async (ctx) => {
        await ctx.$`mkdir -p ${ctx.path(data(CHILD))}`;
        await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${BASE} ${ctx.path(W, CHILD, 'parent')}`;
      },
      hints: ['A wafer is a folder with data/ and, if it has one, a parent file naming the wafer below.', 'mkdir -p wafers/archbase2/data; echo archbase > wafers/archbase2/parent'],
    },
    'stack-by-hand': {
      verify: () => [stackedByHand()],
      solve: async (ctx) => {
        if (!(await isStackedRight(ctx, CHILD))) await stackByHand(ctx, CHILD);
      },
      hints: ['An overlay with archbase\'s data as lowerdir and archbase2\'s data as upperdir, mounted at machines/archbase2.', 'mkdir -p wafers/archbase2/work machines/archbase2; mount -t overlay overlay -o lowerdir=wafers/archbase/data,upperdir=wafers/archbase2/data,workdir=wafers/archbase2/work machines/archbase2'],
      mutants: {
        parentMissing: diagnosed(restackAs((ctx) => {
          return { lower: [ctx.path(W, 'decoy', 'data')], upper: ctx.path(data(CHILD)) };
        }), /lowerdir is wafers\/decoy\/data, expected wafers\/archbase\/data/),
        upperIsParentData: diagnosed(restackAs((ctx) => ({ lower: [ctx.path(data(CHILD))], upper: ctx.path(data(BASE)) })), /lower and upper are swapped[\s\S]*umount machines\/archbase2; mount -t overlay overlay -o lowerdir=wafers\/archbase\/data,/),
      },
    },
    change: {
      verify: () => [holdsNonce(`${S}/${CHILD}/hello.txt`), holdsNonce(`${data(CHILD)}/hello.txt`), pathAbsent(`${data(BASE)}/hello.txt`)],
      solve: async (ctx) => {
        await outOfTheParent(ctx, 'hello.txt');
        await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(S, CHILD, 'hello.txt')}`;
      },
      hints: ['Write a file through machines/archbase2, then look for it in both wafers.', 'echo {{nonce}} > machines/archbase2/hello.txt; ls wafers/archbase2/data wafers/archbase/data'],
      mutants: {
        writtenIntoTheParent: diagnosed(async (ctx) => {
          await ctx.$`rm -f ${ctx.path(data(CHILD), 'hello.txt')}`;
          await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(data(BASE), 'hello.txt')}`;
        }, /wafers\/archbase\/data\/hello\.txt is absent[\s\S]*a regular file/),
      },
    },
    script: {
      verify: () => [isExecutableFile(SCRIPT), ...scriptChecks()],
      solve: async (ctx) => {
        ctx.log(`$ mkdir -p bin; cp ${REFERENCE_SCRIPT} ${SCRIPT}   (the chapter's reference script)`);
        await ctx.$`mkdir -p ${ctx.path('bin')}`;
        await writeFile(ctx.path(SCRIPT), await readFile(REFERENCE_SCRIPT, 'utf8'), { mode: 0o755 });
        await ctx.$`chmod 755 ${ctx.path(SCRIPT)}`;
      },
      hints: [
        'Start from the by-hand mount; put it in a function stack() that takes NAME and PARENT.',
        'Walk the parent files in a loop: w=$(cat $WAFERS/$w/parent), appending $WAFERS/$w/data to lowerdir (nearest first).',
        'The chapter text has a complete script to compare with; it is about 40 lines.',
      ],
      mutants: {
        wrongLowerOrder: diagnosed(scriptWith(LOWER_LINE, 'lower="$WAFERS/$w/data${lower:+:$lower}"'), /lowerdir order is/),
        parentMissing: diagnosed(scriptWith(MOUNT_OPTS, '"lowerdir=${lower#*:},upperdir=$WAFERS/$name/data,workdir=$WAFERS/$name/work"'), /lowerdir is \S*ws-check-a\/data, expected \S*ws-check-b\/data:/),
        upperIsParentData: diagnosed(scriptWith(MOUNT_OPTS, '"lowerdir=$WAFERS/$name/data${lower#"${lower%%:*}"},upperdir=${lower%%:*},workdir=$WAFERS/$name/work"'), /upperdir is \S*ws-check-b\/data, expected \S*ws-check-c\/data/),
        forgetsTheParent: diagnosed(scriptWith('echo "$parent" > "$WAFERS/$name/parent"', 'true'), /a bind mount of \S*ws-check-c\/data \(\w+\), not an overlay/),
      },
    },
    unstack: {
      // The stack goes, on purpose, and with it what the change step saw through it.
      undoes: ['stack-by-hand', 'change'],
      verify: () => [
        notMountedAt(`${S}/${CHILD}`),
        defineCheck(`${data(CHILD)}/hello.txt is kept`, async (ctx) => {
          const v = await verdictOf(fileContains(`${data(CHILD)}/hello.txt`, ctx.nonce), ctx);
          // Unstacking keeps the data; a note that is gone was deleted, and only the change step makes it.
          return v.ok ? v : fail(v.expected, v.actual, `unstack never deletes a wafer's data: this was removed by hand. To get it back: ${restoreTo(ctx, 'unstack')}`);
        }),
      ],
      solve: async (ctx) => unmountAll(ctx, ctx.path(S, CHILD)),
      hints: ['Your script can do it: unstack unmounts.', 'bin/wafers unstack archbase2; ls wafers/archbase2/data'],
      mutants: {
        dataThrownAway: {
          apply: async (ctx) => {
            await ctx.$`rm -f ${ctx.path(data(CHILD), 'hello.txt')}`;
          },
          diagnosis: /archbase2\/data\/hello\.txt: nothing there/,
          recovery: 'restore',
        },
      },
    },
    restack: {
      undoes: ['unstack'],
      verify: () => [waferStacked(S, W, CHILD), holdsNonce(`${S}/${CHILD}/hello.txt`)],
      solve: async (ctx) => {
        // The parent file is what lets the stack be made without naming the parent: the child step wrote it.
        if (!(await exists(ctx.path(W, CHILD, 'parent')))) await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${BASE} ${ctx.path(W, CHILD, 'parent')}`;
        if (!(await isStackedRight(ctx, CHILD))) await stackByHand(ctx, CHILD);
      },
      hints: ['Stack it again with your script, this time without naming the parent.', 'bin/wafers stack archbase2; cat machines/archbase2/hello.txt'],
      mutants: {
        parentForgotten: diagnosed(async (ctx) => {
          await ctx.$`rm -f ${ctx.path(W, CHILD, 'parent')}`;
        }, /parent is missing or empty/),
      },
    },
    nspawn: {
      verify: () => [waferStacked(S, W, CHILD), holdsNonce(`${data(CHILD)}/booted.txt`), pathAbsent(`${data(BASE)}/booted.txt`)],
      solve: async (ctx) => {
        if (!(await isStackedRight(ctx, CHILD))) await stackByHand(ctx, CHILD);
        await outOfTheParent(ctx, 'booted.txt');
        if ((await holdsNonce(`${data(CHILD)}/booted.txt`).run(ctx)).status !== 'pass') await runInStack(ctx, ctx.path(S, CHILD), `echo ${ctx.nonce} > /booted.txt`);
      },
      hints: [
        'Run a command in machines/archbase2 with systemd-nspawn, and let it write the nonce into /booted.txt.',
        "systemd-nspawn -q -D machines/archbase2 --register=no --keep-unit /bin/sh -c 'echo {{nonce}} > /booted.txt'; ls wafers/archbase2/data",
      ],
      mutants: {
        writtenIntoTheParent: diagnosed(async (ctx) => {
          await ctx.$`rm -f ${ctx.path(data(CHILD), 'booted.txt')}`;
          await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(data(BASE), 'booted.txt')}`;
        }, /wafers\/archbase\/data\/booted\.txt is absent/),
        staleNote: diagnosed(async (ctx) => {
          await ctx.$`sh -c ${'echo from-an-earlier-run > "$1"'} - ${ctx.path(S, CHILD, 'booted.txt')}`;
        }, /booted\.txt holds the chapter nonce[\s\S]*characters without it/),
      },
    },
    parentless: {
      verify: () => [waferStackedAlone(S, W, BASE), pathAbsent(`${W}/${BASE}/parent`)],
      solve: async (ctx) => {
        await ctx.$`rm -f ${ctx.path(W, BASE, 'parent')}`;
        if ((await waferStackedAlone(S, W, BASE).run(ctx)).status === 'pass') return;
        await unmountAll(ctx, ctx.path(S, BASE));
        await ctx.$`mkdir -p ${ctx.path(S, BASE)}`;
        await ctx.$`mount --bind ${ctx.path(data(BASE))} ${ctx.path(S, BASE)}`;
      },
      hints: [
        'Your script handles a wafer without a parent file: it mounts the wafer\'s data by itself.',
        'bin/wafers stack archbase; findmnt machines/archbase',
      ],
      mutants: {
        theChildInstead: diagnosed(async (ctx) => {
          await unmountAll(ctx, ctx.path(S, BASE));
          await ctx.$`mount --bind ${ctx.path(data(CHILD))} ${ctx.path(S, BASE)}`;
        }, /which is not wafers\/archbase\/data/),
        notMounted: diagnosed(async (ctx) => unmountAll(ctx, ctx.path(S, BASE)), /nothing is mounted at machines\/archbase/),
        // A bottom wafer with a parent file would make the script trace a parent that is not there.
        parentFileMade: diagnosed(async (ctx) => {
          await ctx.$`sh -c ${'echo archbase0 > "$1"'} - ${ctx.path(W, BASE, 'parent')}`;
        }, /wafers\/archbase\/parent is absent/),
      },
    },
  },
  removes: async (ctx) => {
    const places = [ctx.path(S), ctx.path('.wafers-check')];
    const mounts = (await readMountinfo()).filter((m) => places.some((p) => m.mountPoint === p || m.mountPoint.startsWith(`${p}/`)));
    return [
      ...(await containersUnder(places)).map((pid) => `the process ${pid}, running inside a stack`),
      ...mounts.map((m) => `the stack mounted at ${m.mountPoint.slice(ctx.dir.length + 1)} (${m.fsType}); the wafers' data stays`),
      ...((await exists(ctx.path('.wafers-check'))) ? ['.wafers-check/, where the check runs your script'] : []),
    ];
  },
  cleanup: async (ctx) => {
    const places = [ctx.path(S), ctx.path('.wafers-check')];
    for (const pid of await containersUnder(places)) await ctx.$`kill -9 ${pid}`.nothrow();
    for (const p of places) await unmountAll(ctx, p);
    await ctx.$`rm -rf ${ctx.path('.wafers-check')}`;
  },
});
