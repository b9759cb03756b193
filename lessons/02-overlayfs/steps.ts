import { readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, verdictOf, buildBusyboxRootfs, readMountinfo, mountsUnder, mountsAt, findOverlayWithLower, overlaysWithLower, parseOverlayOptions,
  isWritableOverlay, overlayWithLowerMounted, isWhiteout, isOpaqueDir, isExecutableFile, containersUnder, kernelFs, file, tool,
  type CheckContext, type FoundOverlay, type Mutant, type SolveContext, type Verdict,
} from 'workshop/lesson';

const ROOTFS = 'rootfs';
const exists = (p: string) => stat(p).then(() => true, () => false);

/**
 * Where the reference solution builds, which is where the text says: the learner's own
 * /tmp/$nonce when they made it (the newest, made during this chapter), else /tmp/<the chapter's
 * nonce>. So after `workshop solve` the learner's `$nonce` still names the overlay, and after a
 * restore `workshop` prints the `nonce=…` line that makes the text work again (shellVars below).
 */
async function seedDir(ctx: CheckContext): Promise<string> {
  const mine = (await seedDirsMadeSince(ctx)).filter((d) => dirname(d) === '/tmp');
  return mine.at(-1) ?? `/tmp/${ctx.nonce}`;
}

/** How to leave a state that the step's solution cannot repair: the image itself was changed. */
const restoreTo = (ctx: CheckContext, step: string) => `workshop goto ${ctx.chapter}/${step} --restore`;

type Mountinfo = Awaited<ReturnType<typeof readMountinfo>>;

/** Overlays with rootfs as their upperdir: the layers given the other way round, so that writes land in the image. */
const swappedOverlays = (table: Mountinfo, ctx: CheckContext): Array<Pick<FoundOverlay, 'mount' | 'layers'>> =>
  table
    .filter((m) => m.fsType === 'overlay')
    .map((m) => ({ mount: m, layers: parseOverlayOptions(m.superOptions) }))
    .filter((o) => o.layers.upperdir !== undefined && ctx.path(o.layers.upperdir) === ctx.path(ROOTFS));

/**
 * No overlay has rootfs as a lower layer: say what is mounted instead (the layers swapped, an
 * overlay on something else, or nothing), never only "none".
 */
async function noOverlay(ctx: CheckContext): Promise<Verdict> {
  const expected = 'an overlay whose lowerdir is rootfs';
  const again = 'mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/$nonce/upper,workdir=/tmp/$nonce/workdir none /tmp/$nonce/overlay';
  const table = await readMountinfo();
  const overlays = table.filter((m) => m.fsType === 'overlay').map((m) => ({ m, layers: parseOverlayOptions(m.superOptions) }));
  const swapped = swappedOverlays(table, ctx)[0];
  if (swapped) return fail(expected, `the overlay at ${swapped.mount.mountPoint} has rootfs as its upperdir: lower and upper are swapped`, `Unmount it, then mount it the right way round: umount ${swapped.mount.mountPoint}; ${again}`);
  const ours = overlays.filter((o) => o.m.mountPoint.startsWith('/tmp/') || o.m.mountPoint.startsWith(`${ctx.dir}/`));
  if (ours.length > 0) return fail(expected, `${ours.map((o) => `${o.m.mountPoint} (lowerdir=${o.layers.lowerdirs.join(':')})`).join('; ')}: none uses rootfs`, `Unmount it, then mount rootfs as the lower layer: umount ${ours.map((o) => o.m.mountPoint).join(' ')}; ${again}`);
  return fail(expected, 'no overlay is mounted', `The mount step makes it: ${again}`);
}

/** A check about the learner's overlay, found by its lower layer: the learner never says where it is. */
const aboutOverlay = (name: string, judge: (o: FoundOverlay, ctx: CheckContext) => Promise<Verdict> | Verdict) =>
  defineCheck(name, async (ctx) => {
    const o = await findOverlayWithLower(ctx, ROOTFS);
    return o ? judge(o, ctx) : noOverlay(ctx);
  });

const upperOf = (o: FoundOverlay) => o.layers.upperdir ?? '(no upperdir)';

const present = (label: string, path: (o: FoundOverlay, ctx: CheckContext) => string, want: boolean, hint?: (ctx: CheckContext) => string) =>
  aboutOverlay(label, async (o, ctx) => {
    const p = path(o, ctx);
    const there = await exists(p);
    return there === want ? pass(`${p}: ${there ? 'there' : 'absent'}`) : fail(`${p} ${want ? 'exists' : 'is absent'}`, there ? 'it is there' : 'nothing there', hint?.(ctx));
  });

const merged = (o: FoundOverlay, rel: string) => join(o.mount.mountPoint, rel);
const upper = (o: FoundOverlay, rel: string) => join(upperOf(o), rel);
const lower = (_o: FoundOverlay, ctx: CheckContext, rel: string) => ctx.path(ROOTFS, rel);

/**
 * What the cleanup removes: the processes inside rootfs or an overlay on it, those overlays (with
 * what is mounted inside them), and the seed's folders in /tmp: those of the overlays, and those
 * made during the chapter.
 */
async function leftBehind(ctx: CheckContext): Promise<{ pids: number[]; overlays: Array<Pick<FoundOverlay, 'mount'>>; folders: string[] }> {
  const table = await readMountinfo();
  const onRootfs = overlaysWithLower(table, ROOTFS, ctx.dir);
  // the swapped ones too: a restore said it removes their folder, and left them mounted on rootfs
  const swapped = swappedOverlays(table, ctx);
  const overlays = [...onRootfs, ...swapped];
  const pids = await containersUnder([ctx.path(ROOTFS), ...overlays.map((o) => o.mount.mountPoint)]);
  const ofOverlays = [
    ...onRootfs.flatMap((o) => (o.layers.upperdir !== undefined && dirname(dirname(o.layers.upperdir)) === '/tmp' ? [dirname(o.layers.upperdir)] : [])),
    ...swapped.flatMap((o) => (dirname(dirname(o.mount.mountPoint)) === '/tmp' ? [dirname(o.mount.mountPoint)] : [])),
  ];
  const made = (await seedDirsMadeSince(ctx)).filter((d) => dirname(d) === '/tmp');
  return { pids, overlays, folders: [...new Set([...ofOverlays, ...made])] };
}

/** The seed's three folders, made after the chapter started, in /tmp or in the chapter folder. */
async function seedDirsMadeSince(ctx: CheckContext): Promise<string[]> {
  const found: string[] = [];
  for (const base of ['/tmp', ctx.dir]) {
    for (const name of await readdir(base).catch(() => [] as string[])) {
      const d = join(base, name);
      const parts = await Promise.all(['upper', 'workdir', 'overlay'].map((s) => stat(join(d, s)).then((st) => st.isDirectory(), () => false)));
      const st = await stat(d).catch(() => null);
      if (parts.every(Boolean) && st && st.mtimeMs + 50 >= ctx.startedAt) found.push(d);
    }
  }
  return found;
}

async function mountSeedOverlay({ $ }: SolveContext, d: string, opts: string): Promise<void> {
  await $`mkdir -p ${d}/upper ${d}/workdir ${d}/overlay`;
  await $`mount -t overlay -o ${opts} none ${d}/overlay`;
}

/** A mutant of the mount step: the solution's overlay replaced by one mounted with other options. */
function remountAs(options: (ctx: CheckContext, d: string) => string): Mutant {
  return {
    apply: async (ctx) => {
      const d = await seedDir(ctx);
      await unmountAt(ctx, `${d}/overlay`);
      await ctx.$`mkdir -p ${d}/decoy ${d}/decoy-work ${ctx.path('ws-swapped-work')}`;
      await mountSeedOverlay(ctx, d, options(ctx, d));
    },
  };
}

/**
 * Changing a layer under a mounted overlay is undefined behaviour: the overlay keeps what it
 * cached. A solution that repairs a layer mounts the overlay afresh, with the same layers.
 */
async function remountOverlay(ctx: SolveContext): Promise<void> {
  const o = await findOverlayWithLower(ctx, ROOTFS);
  if (!o) return;
  const { lowerdirs, upperdir, workdir } = o.layers;
  const opts = `lowerdir=${lowerdirs.join(':')}${upperdir ? `,upperdir=${upperdir}` : ''}${workdir ? `,workdir=${workdir}` : ''}`;
  for (const m of mountsUnder(await readMountinfo(), o.mount.mountPoint)) await ctx.$`umount ${m.mountPoint}`;
  await ctx.$`mount -t overlay -o ${opts} none ${o.mount.mountPoint}`;
}

/** The overlay's upperdir and workdir are the upper/ and workdir/ beside its mount point, as the seed lays them out. */
const besideIt = (o: FoundOverlay): boolean => {
  const base = dirname(o.mount.mountPoint);
  return o.layers.upperdir === `${base}/upper` && o.layers.workdir === `${base}/workdir`;
};

const goodOptions = (ctx: CheckContext, d: string) => `lowerdir=${ctx.path(ROOTFS)},upperdir=${d}/upper,workdir=${d}/workdir`;

/** Unmounts everything stacked at p (a mutant may have mounted over the solution). */
async function unmountAt(ctx: SolveContext, p: string): Promise<void> {
  for (let n = mountsAt(await readMountinfo(), p).length; n > 0; n--) await ctx.$`umount ${p}`;
}

/** Runs the learner's container.sh twice without a terminal; returns the overlays it made, then removes them. */
async function runScriptTwice(ctx: CheckContext): Promise<Verdict> {
  const before = new Set((await readMountinfo()).map((m) => `${m.id}:${m.mountPoint}`));
  const runs = [];
  try {
    for (let i = 0; i < 2; i++) {
      const r = await ctx.run('./container.sh', [ROOTFS], { cwd: ctx.dir, timeoutMs: 10_000 });
      runs.push(r);
      if (r.timedOut) return fail('container.sh rootfs < /dev/null to finish', 'it hung for 10 s and was killed', 'The last line should start the shell; with no terminal it exits at once. Does something else wait for input?');
      if (r.code !== 0) return fail('container.sh rootfs to exit 0', `exit ${r.code ?? 'signal'}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`, 'Is the first line #!/bin/sh? Debian has no /bin/ash.');
    }
    const fresh = overlaysWithLower(await readMountinfo(), ROOTFS, ctx.dir).filter((o) => !before.has(`${o.mount.id}:${o.mount.mountPoint}`));
    const points = new Set(fresh.map((o) => o.mount.mountPoint));
    const uppers = new Set(fresh.map((o) => o.layers.upperdir ?? ''));
    if (fresh.length < 2) return fail('two new overlays with lowerdir rootfs, one per run', `${fresh.length} new overlay(s) with lowerdir rootfs`, 'The script must mount -t overlay with lowerdir=$ROOTFS.');
    if (points.size < 2 || uppers.size < 2) return fail('a fresh overlay per run: two mount points, two upperdirs', `${points.size} mount point(s), ${uppers.size} upperdir(s): ${[...points].join(', ')}`, 'Make the folders under a new random nonce each run.');
    return pass(`two runs, two overlays: ${[...points].join(', ')}`);
  } finally {
    await removeScriptMounts(ctx, before);
  }
}

/**
 * Unmounts the overlays on rootfs that are not in `before` (with what is mounted inside them,
 * deepest first, stacked ones too) and removes their seed folders in /tmp. Bounded: a mount that
 * will not go is left for `workshop clean` to report.
 */
async function removeScriptMounts(ctx: CheckContext, before: ReadonlySet<string>): Promise<void> {
  const fresh = overlaysWithLower(await readMountinfo(), ROOTFS, ctx.dir).filter((o) => !before.has(`${o.mount.id}:${o.mount.mountPoint}`));
  for (const o of fresh.reverse()) {
    for (const m of mountsUnder(await readMountinfo(), o.mount.mountPoint)) await ctx.run('umount', [m.mountPoint]);
  }
  const table = await readMountinfo();
  for (const o of fresh) {
    const up = o.layers.upperdir;
    if (up && dirname(dirname(up)) === '/tmp' && mountsUnder(table, dirname(up)).length === 0) await ctx.run('rm', ['-rf', '--one-file-system', dirname(up)]);
  }
}

/**
 * The learner's overlays on rootfs, and those with a proc mounted at proc/ inside. Any of them will
 * do: the text keeps $nonce from the first step, and container.sh has made newer ones since.
 */
async function procInsideOverlays(ctx: CheckContext): Promise<{ overlays: FoundOverlay[]; withProc: Array<{ o: FoundOverlay; at: string }> }> {
  const table = await readMountinfo();
  const overlays = overlaysWithLower(table, ROOTFS, ctx.dir);
  const withProc = overlays.flatMap((o) => {
    const at = join(o.mount.mountPoint, 'proc');
    return mountsAt(table, at).at(-1)?.fsType === 'proc' ? [{ o, at }] : [];
  });
  return { overlays, withProc };
}

const CONTAINER_SH = `#!/bin/sh

# Expect rootfs as script argument
ROOTFS=$1

# Create a random unique string
nonce=$(</dev/urandom tr -dc A-Za-z0-9-_ | head -c 10)

# Prepare our filesystem for our container.
mkdir -p /tmp/$nonce/upper /tmp/$nonce/workdir /tmp/$nonce/overlay
# Create an overlay filesystem based on our read-only root filesystem.
mount -t overlay -o lowerdir=$ROOTFS,upperdir=/tmp/$nonce/upper,workdir=/tmp/$nonce/workdir none /tmp/$nonce/overlay

# Create symlinks in our container for convenience.
chroot /tmp/$nonce/overlay/ /bin/busybox --install -s

# Launch container with custom prompt in ash shell.
PS1="$nonce-# " chroot /tmp/$nonce/overlay /bin/busybox sh
`;

export default defineChapter({
  formatVersion: 1,
  id: 'overlayfs',
  title: 'Copy-on-write with overlayfs',
  state: 'overlayfs',
  requires: [kernelFs('overlay'), file('/bin/busybox', 'busybox-static'), tool('getfattr', 'attr'), tool('setfattr', 'attr')],
  setup: async (ctx) => {
    await buildBusyboxRootfs(ctx, ctx.path(ROOTFS));
    await ctx.$`mkdir -p ${ctx.path(ROOTFS, 'etc')} ${ctx.path(ROOTFS, 'var/www')}`;
    await ctx.$`sh -c ${'echo "Welcome to the lower layer." > "$1"/etc/motd; echo "<h1>from the image</h1>" > "$1"/var/www/index.html'} - ${ctx.path(ROOTFS)}`;
  },
  steps: {
    dirs: {
      verify: () => [
        defineCheck('upper/, workdir/ and overlay/ side by side, made for this chapter', async (ctx) => {
          const found = await seedDirsMadeSince(ctx);
          return found.length > 0 ? pass(found.join(', ')) : fail('a folder (e.g. /tmp/$nonce) holding upper, workdir and overlay, made after the chapter started', 'none in /tmp or the chapter folder', 'mkdir -p /tmp/$nonce/upper /tmp/$nonce/workdir /tmp/$nonce/overlay');
        }),
      ],
      solve: async (ctx) => {
        const d = await seedDir(ctx);
        await ctx.$`mkdir -p ${d}/upper ${d}/workdir ${d}/overlay`;
      },
      hints: ['Make a random name as the seed (the CSC Containers workshop) does, then three folders under /tmp/$nonce.', 'nonce=$(</dev/urandom tr -dc A-Za-z0-9 | head -c 10); mkdir -p /tmp/$nonce/upper /tmp/$nonce/workdir /tmp/$nonce/overlay'],
    },
    mount: {
      verify: () => [
        overlayWithLowerMounted(ROOTFS, { writable: true }),
        aboutOverlay('its upperdir and workdir are the upper/ and workdir/ beside it', (o) => {
          const base = dirname(o.mount.mountPoint);
          const want = `upperdir=${base}/upper, workdir=${base}/workdir`;
          const got = `upperdir=${o.layers.upperdir ?? '(none)'}, workdir=${o.layers.workdir ?? '(none)'}`;
          return got === want ? pass(got) : fail(want, got, 'Use the folders of the previous step for upperdir and workdir.');
        }),
      ],
      solve: async (ctx) => {
        const o = await findOverlayWithLower(ctx, ROOTFS);
        if (o && isWritableOverlay(o) && besideIt(o)) return;
        // A wrong mount where the overlay belongs goes first (read-only, swapped, a bind mount).
        const d = o && !o.mount.mountPoint.startsWith(`${ctx.dir}/`) ? dirname(o.mount.mountPoint) : await seedDir(ctx);
        await unmountAt(ctx, `${d}/overlay`);
        await mountSeedOverlay(ctx, d, goodOptions(ctx, d));
      },
      hints: ['mount -t overlay takes lowerdir=, upperdir= and workdir= in its -o options.', 'mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/$nonce/upper,workdir=/tmp/$nonce/workdir none /tmp/$nonce/overlay'],
      mutants: {
        readOnly: diagnosed(remountAs((ctx, d) => `lowerdir=${d}/upper:${ctx.path(ROOTFS)}`), /read-only|no upperdir/),
        lowerNotRootfs: diagnosed(remountAs((_ctx, d) => `lowerdir=${d}/decoy,upperdir=${d}/upper,workdir=${d}/workdir`), /no overlay uses rootfs; found [\s\S]*\(lowerdir=\S*\/decoy,/),
        upperElsewhere: diagnosed(remountAs((ctx, d) => `lowerdir=${ctx.path(ROOTFS)},upperdir=${d}/decoy,workdir=${d}/decoy-work`), /actual\s+upperdir=\S*\/decoy/),
        // A near-miss seen in class: the two folders given the other way round, so writes would land in rootfs.
        // (Its workdir must be on rootfs's file system, which /tmp may not be: a folder beside rootfs.)
        lowerUpperSwapped: diagnosed(remountAs((ctx, d) => `lowerdir=${d}/upper,upperdir=${ctx.path(ROOTFS)},workdir=${ctx.path('ws-swapped-work')}`), /lower and upper are swapped/),
        bindMount: {
          apply: async (ctx) => {
            const d = await seedDir(ctx);
            await unmountAt(ctx, `${d}/overlay`);
            await ctx.$`mount --bind ${ctx.path(ROOTFS)} ${d}/overlay`;
          },
          diagnosis: /no overlay uses rootfs/,
        },
      },
    },
    cow: {
      verify: () => [
        present('cow.txt is in the merged view', (o) => merged(o, 'cow.txt'), true),
        present('cow.txt landed in upper', (o) => upper(o, 'cow.txt'), true),
        present('cow.txt is not in rootfs', (o, ctx) => lower(o, ctx, 'cow.txt'), false),
      ],
      solve: async (ctx) => {
        // Written into the image by mistake: out of the image, then the overlay mounted afresh.
        if (await exists(ctx.path(ROOTFS, 'cow.txt'))) {
          await ctx.$`rm -f ${ctx.path(ROOTFS, 'cow.txt')}`;
          await remountOverlay(ctx);
        }
        const o = await findOverlayWithLower(ctx, ROOTFS);
        if (!o) throw new Error('no overlay on rootfs: solve the mount step first');
        await ctx.$`sh -c ${'echo hello > "$1"'} - ${merged(o, 'cow.txt')}`;
      },
      hints: ['Write a new file through the merged folder, then look in upper and in rootfs.', 'echo hello > /tmp/$nonce/overlay/cow.txt; ls /tmp/$nonce/upper rootfs'],
      mutants: {
        writtenIntoTheImage: diagnosed(async (ctx) => {
          const o = await findOverlayWithLower(ctx, ROOTFS);
          if (o) await ctx.$`rm -f ${upper(o, 'cow.txt')}`;
          await ctx.$`sh -c ${'echo hello > "$1"'} - ${ctx.path(ROOTFS, 'cow.txt')}`;
        }, /cow\.txt is not in rootfs[\s\S]*it is there/),
      },
    },
    whiteout: {
      verify: () => [
        present('etc/motd is gone from the merged view', (o) => merged(o, 'etc/motd'), false),
        aboutOverlay('upper/etc/motd is a whiteout', (o, ctx) => verdictOf(isWhiteout(upper(o, 'etc/motd')), ctx)),
        present('rootfs/etc/motd is still there', (o, ctx) => lower(o, ctx, 'etc/motd'), true, (ctx) => `It was deleted from the image itself (rootfs), not through the overlay. The image is what the chapter built; this rebuilds it and replays the steps before this one: ${restoreTo(ctx, 'whiteout')}`),
      ],
      solve: async (ctx) => {
        if (!(await exists(ctx.path(ROOTFS, 'etc/motd')))) throw new Error(`rootfs/etc/motd is gone from the image, which the solution does not rebuild: ${restoreTo(ctx, 'whiteout')}`);
        const o = await findOverlayWithLower(ctx, ROOTFS);
        if (!o) throw new Error('no overlay on rootfs: solve the mount step first');
        await ctx.$`rm -f ${merged(o, 'etc/motd')}`;
      },
      hints: ['Delete a file that comes from the lower layer, through merged.', 'rm /tmp/$nonce/overlay/etc/motd; ls -l /tmp/$nonce/upper/etc'],
      mutants: {
        // Seen in class: `rm rootfs/etc/motd`, in the image instead of through the overlay.
        deletedFromTheImage: {
          apply: async (ctx) => {
            await ctx.$`rm -f ${ctx.path(ROOTFS, 'etc/motd')}`;
          },
          diagnosis: /rootfs\/etc\/motd is still there[\s\S]*nothing there[\s\S]*deleted from the image itself/,
          recovery: 'restore',
        },
      },
    },
    opaque: {
      verify: () => [
        aboutOverlay('upper/var/www is opaque', (o, ctx) => verdictOf(isOpaqueDir(upper(o, 'var/www')), ctx)),
        present('var/www/index.html is hidden in the merged view', (o) => merged(o, 'var/www/index.html'), false),
        present('rootfs/var/www/index.html is still there', (o, ctx) => lower(o, ctx, 'var/www/index.html'), true),
      ],
      solve: async (ctx) => {
        const o = await findOverlayWithLower(ctx, ROOTFS);
        if (!o) throw new Error('no overlay on rootfs: solve the mount step first');
        const r = await ctx.run('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', upper(o, 'var/www')]);
        if (r.code === 0 && r.stdout.trim() === 'y') return;
        await ctx.$`rm -rf ${merged(o, 'var/www')}`;
        await ctx.$`mkdir ${merged(o, 'var/www')}`;
      },
      hints: ['Remove a whole folder of the lower layer through merged, then make it again.', 'rm -rf /tmp/$nonce/overlay/var/www && mkdir /tmp/$nonce/overlay/var/www; getfattr -d -m - /tmp/$nonce/upper/var/www'],
      mutants: {
        notOpaque: diagnosed(async (ctx) => {
          const o = await findOverlayWithLower(ctx, ROOTFS);
          if (o) await ctx.$`setfattr -x trusted.overlay.opaque ${upper(o, 'var/www')}`;
        }, /no opaque xattr/),
      },
    },
    script: {
      verify: () => [isExecutableFile('container.sh'), defineCheck('two runs of ./container.sh rootfs give two fresh overlays on rootfs', runScriptTwice)],
      solve: async (ctx) => {
        ctx.log("$ cat > container.sh <<'EOF' … EOF   (the seed's script, with #!/bin/sh)");
        await writeFile(ctx.path('container.sh'), CONTAINER_SH);
        await ctx.$`chmod +x container.sh`;
      },
      hints: ['Put the seed\'s (the CSC Containers workshop\'s) commands in container.sh, with #!/bin/sh as its first line (Debian has no /bin/ash), and chmod +x it.', 'Copy the script of this step into container.sh, then: chmod +x container.sh; ./container.sh rootfs'],
      mutants: {
        notExecutable: diagnosed(async ({ $ }) => {
          await $`chmod -x container.sh`;
        }, /an execute bit \(x\)/),
        sameFolderEveryRun: diagnosed(async ({ $ }) => {
          await $`sed -i ${'s/^nonce=.*/nonce=ws-fixed-layer/'} container.sh`;
        }, /a fresh overlay per run[\s\S]*1 mount point/),
      },
    },
    'proc-leak': {
      verify: () => [
        defineCheck('proc is mounted inside the container', async (ctx) => {
          const { overlays, withProc } = await procInsideOverlays(ctx);
          if (overlays.length === 0) return noOverlay(ctx);
          if (withProc.length > 0) return pass(`proc at ${withProc.map((w) => w.at).join(', ')}`);
          const table = await readMountinfo();
          const what = overlays.map((o) => {
            const at = join(o.mount.mountPoint, 'proc');
            const m = mountsAt(table, at).at(-1);
            return `${at}: ${m ? `${m.fsType} is mounted there` : 'nothing is mounted there'}`;
          });
          return fail(`proc mounted at proc/ inside one of your ${overlays.length} overlay(s) on rootfs`, what.join('; '), 'mkdir -p /tmp/$nonce/overlay/proc; mount -t proc none /tmp/$nonce/overlay/proc');
        }),
        defineCheck("it shows the host's processes", async (ctx) => {
          const { overlays, withProc } = await procInsideOverlays(ctx);
          if (overlays.length === 0) return noOverlay(ctx);
          if (withProc.length === 0) return fail("the host's processes listed in the container's /proc", 'no proc is mounted inside an overlay on rootfs');
          for (const w of withProc) {
            const pids = (await readdir(w.at).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
            if (pids.includes(String(process.pid))) return pass(`${pids.length} processes visible in ${w.at}, workshop's own among them`);
          }
          return fail("the host's processes listed", `${withProc.map((w) => w.at).join(', ')}: not the host's processes`);
        }),
      ],
      solve: async (ctx) => {
        const o = await findOverlayWithLower(ctx, ROOTFS);
        if (!o) throw new Error('no overlay on rootfs: solve the mount step first');
        const at = join(o.mount.mountPoint, 'proc');
        if (mountsAt(await readMountinfo(), at).at(-1)?.fsType === 'proc') return;
        await ctx.$`mkdir -p ${at}`;
        await ctx.$`mount -t proc none ${at}`;
      },
      hints: ['Mount a proc file system at proc/ inside the merged folder, then run ps in the chroot.', 'mkdir -p /tmp/$nonce/overlay/proc; mount -t proc none /tmp/$nonce/overlay/proc; chroot /tmp/$nonce/overlay /bin/busybox ps'],
      mutants: {
        procElsewhere: diagnosed(async (ctx) => {
          const o = await findOverlayWithLower(ctx, ROOTFS);
          if (o) await unmountAt(ctx, join(o.mount.mountPoint, 'proc'));
          await ctx.$`mkdir -p ${ctx.path('decoy-proc')}`;
          await ctx.$`mount -t proc none ${ctx.path('decoy-proc')}`;
        }, /proc is mounted inside the container[\s\S]*overlay\/proc: nothing is mounted there/),
      },
    },
  },
  cleanup: async (ctx) => {
    // Processes first (a shell left in the chroot keeps the mounts busy), then every overlay on
    // rootfs with what is mounted inside it, deepest first, then the seed folders in /tmp.
    const left = await leftBehind(ctx);
    for (const pid of left.pids) await ctx.$`kill -9 ${pid}`.nothrow();
    await removeScriptMounts(ctx, new Set());
    for (const o of swappedOverlays(await readMountinfo(), ctx)) for (const m of mountsUnder(await readMountinfo(), o.mount.mountPoint)) await ctx.$`umount ${m.mountPoint}`;
    const decoy = ctx.path('decoy-proc');
    if (mountsAt(await readMountinfo(), decoy).length > 0) await unmountAt(ctx, decoy);
    if (await exists(decoy)) await ctx.$`rm -rf ${decoy}`;
    // The seed's folders made during the chapter, mounted or not (the dirs step alone mounts nothing).
    const table = await readMountinfo();
    for (const d of left.folders) if (mountsUnder(table, d).length === 0) await ctx.$`rm -rf --one-file-system ${d}`;
  },
  removes: async (ctx) => {
    const left = await leftBehind(ctx);
    const table = await readMountinfo();
    return [
      ...left.pids.map((pid) => `the process ${pid}, a shell or program inside the container`),
      ...left.overlays.map((o) => {
        const inside = mountsUnder(table, o.mount.mountPoint).filter((m) => m.mountPoint !== o.mount.mountPoint);
        return `the overlay mounted at ${o.mount.mountPoint}${inside.length > 0 ? `, with ${inside.map((m) => `${m.fsType} at ${m.mountPoint}`).join(', ')}` : ''}`;
      }),
      ...left.folders.map((d) => `${d}/, its upper, workdir and overlay folders with what you wrote in them`),
    ];
  },
  // The text keeps the seed's $nonce from the dirs step on; after a restore it names the folder the solutions made.
  shellVars: async (ctx) => {
    const o = await findOverlayWithLower(ctx, ROOTFS);
    const at = o !== undefined && besideIt(o) ? dirname(o.mount.mountPoint) : (await seedDirsMadeSince(ctx)).filter((d) => dirname(d) === '/tmp').at(-1);
    return at !== undefined && dirname(at) === '/tmp' ? { nonce: basename(at) } : {};
  },
});
