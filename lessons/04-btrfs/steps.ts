import { lstat, open, stat } from 'node:fs/promises';
import {
  defineChapter, diagnosed, defineCheck, pass, verdictOf, buildBusyboxRootfs, buildDynamicBusyboxRootfs, readMountinfo, mountsUnder, mountsAt, containersUnder, runOk, readLoopDevices,
  sparseImage, hasBtrfsSuperblock, loopMountOf, isSubvolume, subvolumeIsReadOnly, subvolumeIsWritable, snapshotOf, sendStreamOf, receivedFrom, receivedOnTopOf,
  muchSmallerThan, whyNotSubvolume, shellRunsUnderChroot, directoryExists, fileContains, pathAbsent,
  kernelFs, tool, file, which, BTRFS_MAGIC_OFFSET,
  type Check, type Control, type LoaderPlace, type SolveContext,
} from 'workshop/lesson';

const GiB = 2 ** 30;
const IMG = 'store.img';
const STORE = 'store';
const BASE = 'store/base';
const SNAP = 'store/base-snapshot';
const SNAP2 = 'store/base-snapshot2';
/** The container's layer: a writable snapshot of the read-only image (CTHW's task 3). */
const CONTAINER = 'store/container';
const RECEIVED = 'store/received';
const STREAM = 'base-img';
const INC = 'base-inc';
const exists = (p: string) => stat(p).then(() => true, () => false);

const holdsNonce = (p: string): Check => defineCheck(`${p} holds the chapter nonce`, (ctx) => verdictOf(fileContains(p, ctx.nonce), ctx));

async function hasMagic(p: string): Promise<boolean> {
  const fh = await open(p, 'r').catch(() => null);
  if (fh === null) return false;
  try {
    const buf = Buffer.alloc(8);
    await fh.read(buf, 0, 8, BTRFS_MAGIC_OFFSET);
    return buf.toString('latin1') === '_BHRfS_M';
  } finally {
    await fh.close();
  }
}

/** Loop devices backed by files in the chapter folder (store.img, or a copy a learner made). */
async function ourLoops(ctx: SolveContext): Promise<string[]> {
  const loops = await readLoopDevices();
  return loops.filter((l) => l.backFile !== null && l.backFile.startsWith(ctx.dir + '/')).map((l) => l.name);
}

const isStoreMounted = async (ctx: SolveContext): Promise<boolean> => (await loopMountOf(STORE, IMG).run(ctx)).status === 'pass';
const passes = async (c: Check, ctx: SolveContext): Promise<boolean> => (await c.run(ctx)).status === 'pass';

/** Removes a subvolume (even a read-only one) or a plain folder at p; nothing if p is absent. */
async function removeAt(ctx: SolveContext, p: string): Promise<void> {
  const abs = ctx.path(p);
  if (!(await exists(abs))) return;
  if ((await whyNotSubvolume(abs)) === null) await ctx.$`btrfs subvolume delete ${abs}`;
  else await ctx.$`rm -rf --one-file-system ${abs}`;
}

async function snapshotReadOnly(ctx: SolveContext, source: string, snap: string): Promise<void> {
  if (await passes(snapshotOf(snap, source), ctx)) {
    if (!(await passes(subvolumeIsReadOnly(snap), ctx))) await ctx.$`btrfs property set -ts ${snap} ro true`;
    return;
  }
  await removeAt(ctx, snap);
  await ctx.$`btrfs subvolume snapshot -r ${source} ${snap}`;
}

/** Sends `snap` (from `parent`, if given) into `stream` unless it already holds that stream. */
async function sendTo(ctx: SolveContext, stream: string, snap: string, parent?: string): Promise<void> {
  if (await passes(sendStreamOf(stream, snap, parent), ctx)) return;
  await ctx.$`rm -f ${stream}`;
  if (parent === undefined) await ctx.$`btrfs send ${snap} -f ${stream}`;
  else await ctx.$`btrfs send -p ${parent} ${snap} -f ${stream}`;
}

/** Receives `stream` into store/received unless the copy there already came from `snap`. */
async function receiveFrom(ctx: SolveContext, stream: string, snap: string, extra: Check[] = []): Promise<void> {
  const copy = `${RECEIVED}/${snap.split('/').pop() ?? ''}`;
  const ok = await Promise.all([receivedFrom(copy, snap), ...extra].map((c) => passes(c, ctx)));
  if (ok.every(Boolean)) return;
  await removeAt(ctx, copy);
  await ctx.$`mkdir -p ${RECEIVED}`;
  await ctx.$`btrfs receive -f ${stream} ${RECEIVED}`;
}

/** Runs one command in `root` with systemd-nspawn, or with chroot where nspawn cannot run (no systemd, no /usr). */
async function runIn(ctx: SolveContext, root: string, script: string): Promise<void> {
  // systemd-nspawn needs /usr in the rootfs and, without D-Bus, --register=no --keep-unit.
  const nspawn = (await which('systemd-nspawn')) ? await ctx.$`systemd-nspawn -q -D ${root} --register=no --keep-unit /bin/sh -c ${script}`.nothrow() : null;
  if (nspawn === null || nspawn.exitCode !== 0) await ctx.$`chroot ${root} /bin/sh -c ${script}`;
}

/**
 * The container layer's parent is the image: the read-only store/base-snapshot, or store/base
 * itself, which is what Container the Hard Way snapshots (its img/alpine subvolume).
 */
const layerOfTheImage = (layer: string): Check =>
  defineCheck(`${layer} is a snapshot of the image (${SNAP}, or ${BASE} as Container the Hard Way does)`, async (ctx) => {
    const [ofSnap, ofBase] = await Promise.all([verdictOf(snapshotOf(layer, SNAP), ctx), verdictOf(snapshotOf(layer, BASE), ctx)]);
    if (ofSnap.ok) return ofSnap;
    return ofBase.ok ? pass(`${ofBase.actual} = ${BASE}`) : ofSnap;
  }, { timeoutMs: 30_000 });

/** The container layer: a writable snapshot of the image snapshot, with the container's note in it. */
async function makeContainerLayer(ctx: SolveContext): Promise<void> {
  const right = (await passes(layerOfTheImage(CONTAINER), ctx)) && (await passes(subvolumeIsWritable(CONTAINER), ctx));
  if (!right) {
    await removeAt(ctx, CONTAINER);
    await ctx.$`btrfs subvolume snapshot ${SNAP} ${CONTAINER}`;
  }
  await ctx.$`rm -f ${ctx.path(BASE, 'hello.txt')}`;
  if (!(await passes(holdsNonce(`${CONTAINER}/hello.txt`), ctx))) await runIn(ctx, CONTAINER, `echo ${ctx.nonce} > /hello.txt`);
}

/** A real image's root in store/base instead of the static BusyBox (a control): reverted by emptying it for the solution. */
const realImage = (loader: LoaderPlace): Control => ({
  apply: async (ctx) => buildDynamicBusyboxRootfs(ctx, ctx.path(BASE), loader),
  revert: async (ctx) => {
    await ctx.$`find ${BASE} -mindepth 1 -delete`;
  },
});

/**
 * The second copy came from the incremental stream. One received from a full stream is in the
 * way of the right one (`btrfs receive` says "File exists"): the hint removes it first.
 */
const receivedIncrementally = (): Check => {
  const copy = `${RECEIVED}/base-snapshot2`;
  const plain = receivedOnTopOf(copy, `${RECEIVED}/base-snapshot`);
  return defineCheck(plain.name, async (ctx) => {
    const v = await verdictOf(plain, ctx);
    if (v.ok || !/full stream/.test(v.actual)) return v;
    return { ...v, hint: `That copy is in the way: btrfs receive of the incremental stream says "File exists". Delete it, then receive again: btrfs subvolume delete ${copy}; btrfs receive -f ${INC} ${RECEIVED}` };
  }, { timeoutMs: 30_000 });
};

const snapshotMutant = (make: (ctx: SolveContext) => Promise<void>) => async (ctx: SolveContext): Promise<void> => {
  await removeAt(ctx, SNAP);
  await make(ctx);
};

export default defineChapter({
  formatVersion: 1,
  id: 'btrfs',
  title: 'A btrfs image store: subvolumes, snapshots and send streams',
  state: 'btrfs',
  requires: [kernelFs('btrfs'), tool('mkfs.btrfs', 'btrfs-progs'), tool('btrfs', 'btrfs-progs'), tool('losetup', 'util-linux'), file('/bin/busybox', 'busybox-static')],
  steps: {
    image: {
      verify: () => [sparseImage(IMG, GiB, { for: 'a store', then: `mkfs.btrfs -f ${IMG}` }), hasBtrfsSuperblock(IMG)],
      solve: async (ctx) => {
        const st = await stat(ctx.path(IMG)).catch(() => null);
        if (st !== null && st.size >= GiB && st.blocks * 512 < st.size && (await hasMagic(ctx.path(IMG)))) return;
        if ((await ourLoops(ctx)).length > 0) throw new Error(`${IMG} is in use by a loop device: umount store first, then make the image again`);
        await ctx.$`rm -f ${IMG}`;
        await ctx.$`truncate -s 1G ${IMG}`;
        await ctx.$`mkfs.btrfs -f ${IMG}`;
      },
      hints: ['truncate makes a sparse file; mkfs.btrfs formats it.', 'truncate -s 1G store.img; mkfs.btrfs -f store.img; ls -ls store.img'],
      mutants: {
        tooSmall: diagnosed(async ({ $ }) => {
          await $`rm -f ${IMG}`;
          await $`truncate -s 200M ${IMG}`;
          await $`mkfs.btrfs -f ${IMG}`;
        }, /too small for a store/),
        notSparse: diagnosed(async ({ $ }) => {
          await $`rm -f ${IMG}`;
          await $`dd if=/dev/zero of=${IMG} bs=1M count=1024 status=none`;
          await $`mkfs.btrfs -f ${IMG}`;
        }, /it is not sparse/),
      },
    },
    mount: {
      verify: () => [loopMountOf(STORE, IMG)],
      solve: async (ctx) => {
        // What is in the way goes first: another file system on store (a tmpfs), and the image
        // mounted a second time elsewhere in the chapter folder (the image is mounted once).
        const store = ctx.path(STORE);
        const ours = new Set(await ourLoops(ctx));
        const table = await readMountinfo();
        for (const m of mountsUnder(table, ctx.dir).filter((m) => m.mountPoint === store && m.fsType !== 'btrfs')) await ctx.$`umount ${m.mountPoint}`;
        for (const m of mountsUnder(await readMountinfo(), ctx.dir)) {
          const top = m.mountPoint === store || m.mountPoint.startsWith(`${store}/`);
          if (!top && m.fsType === 'btrfs' && m.root === '/' && [...ours].some((l) => m.source === l || m.source.startsWith(`${l}p`))) await ctx.$`umount ${m.mountPoint}`;
        }
        if (await isStoreMounted(ctx)) return;
        await ctx.$`mkdir -p ${STORE}`;
        await ctx.$`mount -o loop ${IMG} ${STORE}`;
      },
      hints: ['mount can attach the loop device for you: -o loop.', 'mkdir -p store; mount -o loop store.img store; losetup -l'],
      mutants: {
        mountedElsewhere: diagnosed(async (ctx) => {
          for (const m of mountsAt(await readMountinfo(), ctx.path(STORE))) await ctx.$`umount ${m.mountPoint}`;
          await ctx.$`mkdir -p ws-elsewhere`;
          await ctx.$`mount -o loop ${IMG} ws-elsewhere`;
        }, /is already mounted elsewhere/),
        alsoMountedAtMnt: diagnosed(async (ctx) => {
          await ctx.$`mkdir -p mnt`;
          await ctx.$`mount -o loop ${IMG} mnt`;
        }, /it is also mounted at mnt \(\/dev\/loop\d+\)/),
        tmpfsInstead: diagnosed(async (ctx) => {
          await ctx.$`mount -t tmpfs ws-tmpfs ${STORE}`;
        }, /tmpfs is mounted there/),
      },
    },
    subvolume: {
      verify: () => [isSubvolume(BASE, { nameOthers: true })],
      solve: async (ctx) => {
        if ((await whyNotSubvolume(ctx.path(BASE))) === null) return;
        await removeAt(ctx, BASE);
        await ctx.$`btrfs subvolume create ${BASE}`;
      },
      hints: ['A subvolume looks like a folder, but mkdir does not make one. If a plain store/base is in the way, remove it first (rm -r store/base).', 'btrfs subvolume create store/base; btrfs subvolume list store'],
      mutants: {
        plainDirectory: diagnosed(async (ctx) => {
          await removeAt(ctx, BASE);
          await ctx.$`mkdir -p ${BASE}`;
        }, /a plain directory \(inode \d+, not 256\)[\s\S]*btrfs subvolume create/),
        anotherName: {
          // The seed's name, store/arch-base: a valid subvolume, at a path this chapter does not use.
          apply: async (ctx) => {
            await removeAt(ctx, BASE);
            await ctx.$`btrfs subvolume create store/arch-base`;
          },
          diagnosis: /the store has the subvolume store\/arch-base[\s\S]*mv store\/arch-base store\/base/,
        },
      },
    },
    populate: {
      // A real image passes too: its root is judged by running its shell, not by how it is linked.
      verify: () => [shellRunsUnderChroot(BASE), directoryExists(`${BASE}/usr/bin`)],
      solve: async (ctx) => {
        if (await passes(shellRunsUnderChroot(BASE), ctx)) return;
        // A shell that does not run there (the host's dash, copied without its loader) is replaced by busybox's link.
        if ((await lstat(ctx.path(BASE, 'bin/sh')).catch(() => null))?.isSymbolicLink() === false) await ctx.$`rm -f ${BASE}/bin/sh`;
        await buildBusyboxRootfs(ctx, ctx.path(BASE));
      },
      hints: ['The same busybox rootfs as in chapter 01, built inside the subvolume.', 'mkdir -p store/base/{bin,sbin,usr/bin,usr/sbin}; cp /bin/busybox store/base/bin/; chroot store/base /bin/busybox --install -s'],
      mutants: {
        // The host's /bin/sh (dash) copied in without its loader and libraries.
        hostShellCopied: {
          apply: async (ctx) => {
            await ctx.$`rm -f ${BASE}/bin/sh`;
            await ctx.$`cp -L /bin/sh ${BASE}/bin/sh`;
          },
          diagnosis: /store\/base\/bin\/sh is dynamically linked: its loader \S+ is not in store\/base[\s\S]*ldd/,
        },
        noSymlinks: diagnosed(async (ctx) => {
          await ctx.$`find ${BASE} -type l -delete`;
        }, /the BusyBox symlinks are not installed[\s\S]*--install -s/),
      },
      controls: {
        // Debian's busybox package: linked against glibc, with its loader and libraries inside.
        dynamicBusybox: realImage('as-packaged'),
        // Its loader renamed, so that only the root has it: as Alpine's BusyBox (musl) on this host.
        loaderOnlyInside: realImage('inside-only'),
      },
    },
    run: {
      verify: () => [holdsNonce(`${BASE}/ran.txt`)],
      solve: async (ctx) => runIn(ctx, BASE, `echo ${ctx.nonce} > /ran.txt`),
      hints: ['Start a shell in store/base with systemd-nspawn (or chroot) and write the nonce into /ran.txt.', "systemd-nspawn -D store/base --register=no --keep-unit /bin/sh -c 'echo {{nonce}} > /ran.txt'"],
    },
    snapshot: {
      verify: () => [isSubvolume(SNAP, { make: `btrfs subvolume snapshot -r ${BASE} ${SNAP}` }), subvolumeIsReadOnly(SNAP), snapshotOf(SNAP, BASE)],
      solve: async (ctx) => snapshotReadOnly(ctx, BASE, SNAP),
      hints: [
        'The Hex tutorial\'s `btrfs snapshot` is not a command: snapshots are made by `btrfs subvolume snapshot`.',
        'btrfs subvolume snapshot -r store/base store/base-snapshot (or snapshot without -r, then btrfs property set -ts store/base-snapshot ro true)',
      ],
      mutants: {
        writableSnapshot: diagnosed(snapshotMutant(async ({ $ }) => {
          await $`btrfs subvolume snapshot ${BASE} ${SNAP}`;
        }), /the snapshot is writable/),
        plainDirectory: diagnosed(snapshotMutant(async ({ $ }) => {
          await $`cp -a ${BASE} ${SNAP}`;
        }), /store\/base-snapshot: a plain directory[\s\S]*btrfs subvolume snapshot -r/),
        snapshotOfAnotherSource: diagnosed(snapshotMutant(async (ctx) => {
          await removeAt(ctx, 'store/ws-other');
          await ctx.$`btrfs subvolume create store/ws-other`;
          await ctx.$`btrfs subvolume snapshot -r store/ws-other ${SNAP}`;
        }), /a snapshot of another subvolume/),
      },
    },
    container: {
      verify: () => [
        isSubvolume(CONTAINER, { make: `btrfs subvolume snapshot ${SNAP} ${CONTAINER}`, snapshotsOf: { sources: [SNAP, BASE], except: [SNAP, SNAP2] } }),
        subvolumeIsWritable(CONTAINER),
        layerOfTheImage(CONTAINER),
        holdsNonce(`${CONTAINER}/hello.txt`),
        pathAbsent(`${BASE}/hello.txt`),
      ],
      solve: makeContainerLayer,
      hints: [
        'The container layer is a snapshot of the image snapshot, without -r, so that the container can write to it.',
        "btrfs subvolume snapshot store/base-snapshot store/container; systemd-nspawn -D store/container --register=no --keep-unit /bin/sh -c 'echo {{nonce}} > /hello.txt'",
      ],
      controls: {
        // Container the Hard Way's layer: a writable snapshot of the image itself (its
        // img/alpine), holding a real image's root whose loader only the root has, as Alpine's;
        // the note is written by that root's own sh.
        realImageLayer: {
          apply: async (ctx) => {
            await removeAt(ctx, CONTAINER);
            await ctx.$`btrfs subvolume snapshot ${BASE} ${CONTAINER}`;
            await buildDynamicBusyboxRootfs(ctx, ctx.path(CONTAINER), 'inside-only');
            await ctx.$`chroot ${ctx.path(CONTAINER)} /bin/sh -c ${`echo ${ctx.nonce} > /hello.txt`}`;
          },
          revert: async (ctx) => removeAt(ctx, CONTAINER),
        },
      },
      mutants: {
        // The tutorial's name: a layer made right, at store/run/littlebox.
        tutorialsName: {
          apply: async (ctx) => {
            await removeAt(ctx, CONTAINER);
            await ctx.$`mkdir -p store/run`;
            await ctx.$`btrfs subvolume snapshot ${BASE} store/run/littlebox`;
          },
          diagnosis: /the store has store\/run\/littlebox, a snapshot of store\/base[\s\S]*mv store\/run\/littlebox store\/container/,
        },
        readOnlyLayer: {
          apply: async (ctx) => {
            await removeAt(ctx, CONTAINER);
            await ctx.$`btrfs subvolume snapshot -r ${SNAP} ${CONTAINER}`;
          },
          diagnosis: /ro=true: the snapshot is read-only/,
        },
        layerOfAnotherImage: {
          apply: async (ctx) => {
            await removeAt(ctx, CONTAINER);
            await removeAt(ctx, 'store/ws-other');
            await ctx.$`btrfs subvolume create store/ws-other`;
            await ctx.$`btrfs subvolume snapshot store/ws-other ${CONTAINER}`;
            await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(CONTAINER, 'hello.txt')}`;
          },
          diagnosis: /store\/container is a snapshot of the image[\s\S]*a snapshot of another subvolume/,
        },
        writtenIntoTheImage: {
          apply: async (ctx) => {
            await ctx.$`rm -f ${ctx.path(CONTAINER, 'hello.txt')}`;
            await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(BASE, 'hello.txt')}`;
          },
          diagnosis: /store\/base\/hello\.txt is absent/,
        },
        plainCopy: {
          apply: async (ctx) => {
            await removeAt(ctx, CONTAINER);
            await ctx.$`cp -a ${SNAP} ${CONTAINER}`;
          },
          diagnosis: /store\/container: a plain directory/,
        },
      },
    },
    send: {
      verify: () => [sendStreamOf(STREAM, SNAP), isSubvolume(`${RECEIVED}/base-snapshot`, { make: `mkdir -p ${RECEIVED}; btrfs receive -f ${STREAM} ${RECEIVED}` }), receivedFrom(`${RECEIVED}/base-snapshot`, SNAP)],
      solve: async (ctx) => {
        await sendTo(ctx, STREAM, SNAP);
        await receiveFrom(ctx, STREAM, SNAP);
      },
      hints: ['btrfs send writes a snapshot as one stream; btrfs receive turns it back into a subvolume.', 'btrfs send store/base-snapshot -f base-img; mkdir -p store/received; btrfs receive -f base-img store/received'],
      mutants: {
        notAStream: diagnosed(async ({ $ }) => {
          await $`tar -cf ${STREAM} -C ${SNAP} .`;
        }, /does not start with btrfs-stream/),
        copiedNotReceived: diagnosed(async (ctx) => {
          await removeAt(ctx, `${RECEIVED}/base-snapshot`);
          await ctx.$`btrfs subvolume snapshot -r ${SNAP} ${RECEIVED}/base-snapshot`;
        }, /no Received UUID: it was not made by btrfs receive/),
      },
    },
    incremental: {
      verify: () => [
        snapshotOf(SNAP2, BASE),
        subvolumeIsReadOnly(SNAP2),
        sendStreamOf(INC, SNAP2, SNAP),
        receivedFrom(`${RECEIVED}/base-snapshot2`, SNAP2),
        receivedIncrementally(),
        muchSmallerThan(INC, STREAM, 10),
      ],
      solve: async (ctx) => {
        if (!(await passes(snapshotOf(SNAP2, BASE), ctx))) {
          await ctx.$`mkdir -p ${BASE}/etc`;
          await ctx.$`sh -c ${'echo "version 2" > "$1"'} - ${ctx.path(BASE, 'etc/version')}`;
        }
        await snapshotReadOnly(ctx, BASE, SNAP2);
        await sendTo(ctx, INC, SNAP2, SNAP);
        await receiveFrom(ctx, INC, SNAP2, [receivedOnTopOf(`${RECEIVED}/base-snapshot2`, `${RECEIVED}/base-snapshot`)]);
      },
      hints: [
        'Change something in store/base, take a second read-only snapshot, and send only the difference with -p.',
        'mkdir -p store/base/etc; echo "version 2" > store/base/etc/version; btrfs subvolume snapshot -r store/base store/base-snapshot2; btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc; btrfs receive -f base-inc store/received; ls -l base-img base-inc',
      ],
      mutants: {
        fullStream: diagnosed(async (ctx) => {
          await ctx.$`rm -f ${INC}`;
          await ctx.$`btrfs send ${SNAP2} -f ${INC}`;
          await removeAt(ctx, `${RECEIVED}/base-snapshot2`);
          await ctx.$`btrfs receive -f ${INC} ${RECEIVED}`;
        }, /a full stream of base-snapshot2: it repeats every file[\s\S]*btrfs send -p store\/base-snapshot store\/base-snapshot2 -f base-inc/),
        // Seen in class: a full send received first, then the right `send -p`; the old copy blocks
        // the receive ("File exists"), and the row must say so, not "send with -p" again.
        fullReceiveFirst: diagnosed(async (ctx) => {
          await ctx.$`rm -f ${INC}`;
          await ctx.$`btrfs send ${SNAP2} -f ${INC}`;
          await removeAt(ctx, `${RECEIVED}/base-snapshot2`);
          await ctx.$`btrfs receive -f ${INC} ${RECEIVED}`;
          await ctx.$`rm -f ${INC}`;
          await ctx.$`btrfs send -p ${SNAP} ${SNAP2} -f ${INC}`;
        }, /received from a full stream[\s\S]*File exists[\s\S]*btrfs subvolume delete store\/received\/base-snapshot2; btrfs receive -f base-inc store\/received/),
        writableSecondSnapshot: diagnosed(async (ctx) => {
          await ctx.$`btrfs property set -ts ${SNAP2} ro false`;
        }, /base-snapshot2 is read-only[\s\S]*the snapshot is writable/),
      },
    },
  },
  removes: async (ctx) => [
    ...(await containersUnder([ctx.dir])).map((pid) => `the process ${pid}, running in the store`),
    ...mountsUnder(await readMountinfo(), ctx.dir).map((m) => `the mount at ${m.mountPoint.slice(ctx.dir.length + 1)} (${m.fsType} from ${m.source}); store.img and what it holds stay`),
    ...(await readLoopDevices()).filter((l) => l.backFile !== null && l.backFile.startsWith(`${ctx.dir}/`)).map((l) => `the loop device ${l.name} (backed by ${l.backFile ?? ''})`),
  ],
  cleanup: async (ctx) => {
    // Processes in the container first (they keep the mount busy), then every mount in the
    // chapter folder, deepest first (store/…, then store, then a second mount of the image),
    // then loop devices that still point into the folder (mount -o loop sets autoclear, but a
    // learner may have run losetup by hand).
    // A learner's shell with its cwd in store/ is not killed: the mount is detached lazily instead.
    for (const pid of await containersUnder([ctx.dir])) await ctx.$`kill -9 ${pid}`.nothrow();
    for (const m of mountsUnder(await readMountinfo(), ctx.dir)) if ((await ctx.$`umount ${m.mountPoint}`.nothrow()).exitCode !== 0) await ctx.$`umount -l ${m.mountPoint}`;
    for (const loop of await ourLoops(ctx)) await ctx.$`losetup -d ${loop}`.nothrow();
  },
});
