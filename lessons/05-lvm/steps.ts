import { access, readFile, writeFile, mkdir } from 'node:fs/promises';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, verdictOf, buildBusyboxRootfs, readMountinfo, mountsUnder, containersUnder, runOk, readLoopDevices,
  LVM_NO_UDEV_CONFIG, readLvs, pvsOfVg, vgOnLoopImage, thinPoolExists, thinVolumeIn, lvIsReadOnly, lvIsWritable, lvIsActive, lvIsSnapshotOf,
  layerIsSparse, layerGrewBeyond, isReadOnlyLv, deviceMapperTarget, kernelFs, tool, file,
  type Check, type SolveContext,
} from 'workshop/lesson';

// The imgbased layout (seed 002). The VG name is the seed's; it lives on a loop device whose
// backing file is in the chapter folder, and cleanup removes it only when all its PVs are ours.
const VG = 'HostVG';
const POOL = 'pool';
const IMG = 'hostvg.img';
const dev = (lv: string) => `/dev/${VG}/${lv}`;
const mnt = (lv: string) => `mnt/${lv}`;
const entry = (lv: string) => `boot/loader/entries/${lv}.conf`;

/**
 * A layer that must still hold only what changed. Blocks it once held go back to the pool only
 * when the file system discards them, which the learner's own copy may never have done: the ways
 * out named in the row are to delete it and trim, workshop solve (sparse's solve makes the layer
 * again), or to rewind the chapter to this step.
 */
const stillSparse = (layer: string, base: string): Check => {
  const plain = layerIsSparse(VG, layer, base, 2);
  return defineCheck(plain.name, async (ctx) => {
    const v = await verdictOf(plain, ctx);
    if (v.ok) return v;
    return fail(v.expected, v.actual, `${v.hint === undefined ? '' : `${v.hint} `}Delete what was copied in besides the changed files, then sync -f and fstrim the mounted layer; or let workshop solve make the layer again from its base, with the persisted file; or rewind to this step: workshop goto ${ctx.chapter}/sparse --restore`);
  }, { timeoutMs: 30_000 });
};

/**
 * lvm waits for udev to create /dev nodes; where there is no udev (containers, the project's
 * qemu guest) that wait never ends, so the solution passes --config overrides instead of
 * editing /etc/lvm/lvm.conf. With udev (the Vagrant VM), the plain commands are used.
 */
async function lvmArgs(): Promise<string[]> {
  const udev = await access('/run/udev/control').then(() => true, () => false);
  return udev ? [] : ['--config', LVM_NO_UDEV_CONFIG];
}
async function lvm(ctx: SolveContext, cmd: string, args: string[]): Promise<void> {
  await ctx.$`${cmd} ${await lvmArgs()} ${args}`;
}

const passes = async (c: Check, ctx: SolveContext): Promise<boolean> => (await c.run(ctx)).status === 'pass';
const lvExists = async (lv: string): Promise<boolean> => (await readLvs(VG)).some((l) => l.name === lv);

async function ourLoops(ctx: SolveContext): Promise<string[]> {
  const loops = await readLoopDevices();
  return loops.filter((l) => l.backFile === ctx.path(IMG)).map((l) => l.name);
}

/** The device node, made by hand with dmsetup mknodes where udev does not make it. */
async function ensureNode(ctx: SolveContext, lv: string): Promise<void> {
  if (await access(dev(lv)).then(() => true, () => false)) return;
  await ctx.$`vgmknodes ${await lvmArgs()} ${VG}`;
}

async function unmount(ctx: SolveContext, p: string): Promise<void> {
  for (const m of mountsUnder(await readMountinfo(), ctx.path(p))) await ctx.$`umount ${m.mountPoint}`;
}

/** A thin LV with ext4 and a busybox rootfs; `etc/os-release` says which base it is. */
async function makeBase(ctx: SolveContext, lv: string, version: string): Promise<void> {
  if (!(await lvExists(lv))) {
    await lvm(ctx, 'lvcreate', ['-V', '512M', '-T', `${VG}/${POOL}`, '-n', lv]);
    await ensureNode(ctx, lv);
    await ctx.$`mkfs.ext4 -q ${dev(lv)}`;
    await ctx.$`mkdir -p ${mnt(lv)}`;
    await ctx.$`mount ${dev(lv)} ${mnt(lv)}`;
    try {
      await buildBusyboxRootfs(ctx, ctx.path(mnt(lv)));
      await ctx.$`mkdir -p ${mnt(lv)}/etc`;
      await ctx.$`sh -c ${'echo "NAME=workshop\nVERSION_ID=$1" > "$2"'} - ${version} ${ctx.path(mnt(lv), 'etc/os-release')}`;
    } finally {
      await unmount(ctx, mnt(lv));
    }
  }
  const lvs = await readLvs(VG);
  const base = lvs.find((l) => l.name === lv);
  if (base && !isReadOnlyLv(base)) await lvm(ctx, 'lvchange', ['-p', 'r', `${VG}/${lv}`]);
}

/** A writable thin snapshot of `base`, active despite the activation skip flag thin snapshots get. */
async function makeLayer(ctx: SolveContext, base: string, layer: string): Promise<void> {
  if (!(await passes(lvIsSnapshotOf(VG, layer, base), ctx))) {
    if (await lvExists(layer)) {
      await unmount(ctx, mnt(layer));
      await lvm(ctx, 'lvremove', ['-f', `${VG}/${layer}`]);
    }
    await lvm(ctx, 'lvcreate', ['-s', `${VG}/${base}`, '-n', layer]);
  }
  if (!(await passes(lvIsWritable(VG, layer), ctx))) await lvm(ctx, 'lvchange', ['-p', 'rw', `${VG}/${layer}`]);
  if (!(await passes(lvIsActive(VG, layer), ctx))) await lvm(ctx, 'lvchange', ['-ay', '-K', `${VG}/${layer}`]);
  await ensureNode(ctx, layer);
}

/** Mounts `lv` at mnt/LV for `body`, then unmounts it whatever happens. */
async function withMounted(ctx: SolveContext, lv: string, body: () => Promise<void>): Promise<void> {
  await ctx.$`mkdir -p ${mnt(lv)}`;
  if (mountsUnder(await readMountinfo(), ctx.path(mnt(lv))).length === 0) await ctx.$`mount ${dev(lv)} ${mnt(lv)}`;
  try {
    await body();
  } finally {
    await unmount(ctx, mnt(lv));
  }
}

/**
 * Frees the blocks of deleted files in the thin pool. ext4 can discard freed blocks only once its
 * journal has committed the delete: fstrim right after rm left Data% at 9.89 %, after sync -f it
 * fell to 3.64 % (qemu guest).
 */
async function trim(ctx: SolveContext, lv: string): Promise<void> {
  await ctx.$`sync -f ${ctx.path(mnt(lv))}`;
  await ctx.$`fstrim ${ctx.path(mnt(lv))}`;
}

const BIG = '/big.bin';
async function writeBig(ctx: SolveContext, lv: string, name: string): Promise<void> {
  await ctx.$`dd if=/dev/urandom of=${ctx.path(mnt(lv), name)} bs=1M count=32 conv=fsync status=none`;
}

async function writeBootEntry(ctx: SolveContext, layer: string): Promise<void> {
  await mkdir(ctx.path('boot/loader/entries'), { recursive: true });
  ctx.log(`$ cat > ${entry(layer)}`);
  await writeFile(ctx.path(entry(layer)), `title    workshop ${layer}\nlinux    /vmlinuz\ninitrd   /initrd.img\noptions  root=${dev(layer)} rw\n`);
}

/** Reads a file from an ext4 LV without mounting it (debugfs opens the device read-only). */
const fileInLv = (lv: string, path: string, wantNonce: boolean, hint = `Mount both layers and copy the file from Base-0.1: mkdir -p mnt/Base-0.1 mnt/${lv}; mount ${dev('Base-0.1')} mnt/Base-0.1; mount ${dev(lv)} mnt/${lv}; cp -a mnt/Base-0.1${path} mnt/${lv}${path}; umount mnt/Base-0.1 mnt/${lv}`): Check =>
  defineCheck(`${VG}/${lv} ${wantNonce ? 'has' : 'has no'} ${path} holding the chapter nonce`, async (ctx) => {
    const r = await ctx.run('debugfs', ['-R', `cat ${path}`, dev(lv)], { timeoutMs: 10_000 });
    const has = r.code === 0 && r.stdout.includes(ctx.nonce);
    if (has === wantNonce) return pass(has ? `${path} holds the nonce` : `no nonce in ${path}`);
    return wantNonce
      ? fail(`${path} in ${lv} holding the nonce`, r.stdout.trim() === '' ? 'the file is missing or empty' : `it holds ${JSON.stringify(r.stdout.trim().slice(0, 60))}`, hint)
      : fail(`no nonce in ${lv}:${path}: a base is never written`, 'the nonce is there');
  });

/** The file is gone from the LV's ext4 (debugfs exits 0 either way; a missing file is "File not found by ext2_lookup" on stderr). */
const fileGoneFromLv = (lv: string, path: string): Check =>
  defineCheck(`${VG}/${lv} has no ${path}`, async (ctx) => {
    const r = await ctx.run('debugfs', ['-R', `stat ${path}`, dev(lv)], { timeoutMs: 10_000 });
    if (/File not found/.test(r.stderr)) return pass(`no ${path}`);
    if (r.code === 0 && /Inode:/.test(r.stdout)) return fail(`${path} deleted from ${lv}`, `${path} is still there`, `mount ${dev(lv)} mnt/${lv}; rm mnt/${lv}${path}`);
    return fail(`${path} deleted from ${lv}`, `debugfs could not read ${dev(lv)}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  });

/** A Boot Loader Specification entry (type #1): `key value` lines; it needs a `linux` kernel and `options` with root= the layer. */
const bootEntryFor = (layer: string): Check =>
  defineCheck(`${entry(layer)} boots ${dev(layer)} (linux and options root=…)`, async (ctx) => {
    const text = await readFile(ctx.path(entry(layer)), 'utf8').catch(() => null);
    if (text === null) return fail(`a boot entry ${entry(layer)}`, `${entry(layer)}: nothing there`, `mkdir -p boot/loader/entries; printf 'title ${layer}\\nlinux /vmlinuz\\ninitrd /initrd.img\\noptions root=${dev(layer)} rw\\n' > ${entry(layer)}`);
    const keys = new Map(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => { const [k = '', ...v] = l.split(/\s+/); return [k, v.join(' ')] as const; }));
    if (!keys.has('linux') && !keys.has('efi') && !keys.has('uki')) return fail('a linux line: the kernel to boot', `${entry(layer)} has no linux line (keys: ${[...keys.keys()].join(', ') || 'none'})`, `Add a line: linux /vmlinuz`);
    const opts = keys.get('options') ?? '';
    if (!opts.split(/\s+/).includes(`root=${dev(layer)}`)) return fail(`options root=${dev(layer)}`, opts === '' ? 'no options line' : `options ${opts}`, `options root=${dev(layer)} rw`);
    return pass(`linux ${keys.get('linux') ?? keys.get('efi') ?? keys.get('uki') ?? ''}, options ${opts}`);
  });

const hasExt4 = (lv: string): Check =>
  defineCheck(`${VG}/${lv} holds an ext4 file system`, async (ctx) => {
    const r = await ctx.run('blkid', ['-o', 'value', '-s', 'TYPE', dev(lv)], { timeoutMs: 10_000 });
    const type = r.stdout.trim();
    return type === 'ext4' ? pass('ext4') : fail('ext4', type === '' ? 'no file system' : type, `mkfs.ext4 ${dev(lv)}`);
  });

const PERSISTED = '/etc/workshop.conf';

/**
 * persist's work: with both layers mounted, the nonce goes into Base-0.1's file (`write`), and that
 * file is copied into Base-1.1 (`copy` alone, for a Base-1.1 made again by sparse's solve).
 */
async function persist(ctx: SolveContext, how: 'write' | 'copy'): Promise<void> {
  for (const lv of ['Base-0.1', 'Base-1.1']) {
    await ctx.$`mkdir -p ${mnt(lv)}`;
    if (mountsUnder(await readMountinfo(), ctx.path(mnt(lv))).length === 0) await ctx.$`mount ${dev(lv)} ${mnt(lv)}`;
  }
  try {
    if (how === 'write') await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(mnt('Base-0.1'), PERSISTED.slice(1))}`;
    await ctx.$`cp -a ${ctx.path(mnt('Base-0.1'), PERSISTED.slice(1))} ${ctx.path(mnt('Base-1.1'), 'etc/')}`;
  } finally {
    await unmount(ctx, mnt('Base-0.1'));
    await unmount(ctx, mnt('Base-1.1'));
  }
}

/** What the Config LV keeps for every base: here, the host's name. */
const HOSTNAME = '/etc/hostname';

export default defineChapter({
  formatVersion: 1,
  id: 'lvm',
  title: 'LVM thin layers, as imgbased does them',
  state: { family: 'lvm', vg: VG },
  requires: [
    deviceMapperTarget('thin-pool'),
    tool('lvs', 'lvm2'),
    tool('thin_check', 'thin-provisioning-tools'),
    tool('mkfs.ext4', 'e2fsprogs'),
    tool('debugfs', 'e2fsprogs'),
    tool('blkid', 'util-linux'),
    kernelFs('ext4'),
    file('/bin/busybox', 'busybox-static'),
  ],
  steps: {
    'pv-vg': {
      verify: () => [vgOnLoopImage(VG, IMG)],
      solve: async (ctx) => {
        if (await passes(vgOnLoopImage(VG, IMG), ctx)) return;
        if ((await pvsOfVg(VG)).length > 0) throw new Error(`a volume group ${VG} already exists on other devices: this chapter will not touch it`);
        await ctx.$`truncate -s 2G ${IMG}`;
        const loop = (await ourLoops(ctx))[0] ?? (await ctx.$`losetup -f --show ${IMG}`).stdout.trim();
        await lvm(ctx, 'pvcreate', ['-y', loop]);
        await lvm(ctx, 'vgcreate', [VG, loop]);
      },
      hints: ['A sparse file, a loop device, then pvcreate and vgcreate.', 'truncate -s 2G hostvg.img; loop=$(losetup -f --show hostvg.img); pvcreate $loop; vgcreate HostVG $loop; vgs'],
    },
    pool: {
      verify: () => [thinPoolExists(VG, POOL)],
      solve: async (ctx) => {
        if (!(await lvExists(POOL))) await lvm(ctx, 'lvcreate', ['--type', 'thin-pool', '-L', '1G', '-n', POOL, VG]);
      },
      hints: ['A thin pool is an LV of type thin-pool.', 'lvcreate --type thin-pool -L 1G -n pool HostVG; lvs HostVG'],
    },
    base: {
      verify: () => [thinVolumeIn(VG, 'Base-0', POOL), hasExt4('Base-0'), lvIsReadOnly(VG, 'Base-0')],
      solve: async (ctx) => makeBase(ctx, 'Base-0', '0'),
      hints: [
        'Create a thin LV, put ext4 and a busybox rootfs on it, unmount it, and make it read-only.',
        'lvcreate -V 512M -T HostVG/pool -n Base-0; mkfs.ext4 /dev/HostVG/Base-0; mkdir -p mnt/Base-0; mount /dev/HostVG/Base-0 mnt/Base-0; mkdir -p mnt/Base-0/{bin,sbin,usr/bin,usr/sbin,etc}; cp /bin/busybox mnt/Base-0/bin/; chroot mnt/Base-0 /bin/busybox --install -s; umount mnt/Base-0; lvchange -p r HostVG/Base-0',
      ],
      mutants: {
        baseLeftWritable: diagnosed(async (ctx) => lvm(ctx, 'lvchange', ['-p', 'rw', `${VG}/Base-0`]), /writable: the base can still be changed/),
      },
    },
    layer: {
      verify: () => [lvIsSnapshotOf(VG, 'Base-0.1', 'Base-0'), lvIsWritable(VG, 'Base-0.1'), lvIsActive(VG, 'Base-0.1')],
      solve: async (ctx) => makeLayer(ctx, 'Base-0', 'Base-0.1'),
      hints: ['A thin snapshot (lvcreate -s) of a thin LV needs no size; it is not activated by default.', 'lvcreate -s HostVG/Base-0 -n Base-0.1; lvchange -ay -K HostVG/Base-0.1'],
      mutants: {
        notASnapshot: diagnosed(async (ctx) => {
          await lvm(ctx, 'lvremove', ['-f', `${VG}/Base-0.1`]);
          await lvm(ctx, 'lvcreate', ['-V', '512M', '-T', `${VG}/${POOL}`, '-n', 'Base-0.1']);
        }, /it has no origin: a new volume, not a snapshot/),
        inactive: diagnosed(async (ctx) => lvm(ctx, 'lvchange', ['-an', `${VG}/Base-0.1`]), /HostVG\/Base-0\.1 is active[\s\S]*: inactive/),
      },
    },
    'second-layer': {
      verify: () => [lvIsSnapshotOf(VG, 'Base-0.2', 'Base-0'), lvIsWritable(VG, 'Base-0.2'), lvIsActive(VG, 'Base-0.2')],
      solve: async (ctx) => makeLayer(ctx, 'Base-0', 'Base-0.2'),
      hints: ['A second thin snapshot of the same base, made and activated like Base-0.1.', 'lvcreate -s HostVG/Base-0 -n Base-0.2; lvchange -ay -K HostVG/Base-0.2'],
      mutants: {
        layerOfALayer: {
          // A snapshot of Base-0.1 carries Base-0.1's changes: imgbased's layers all start from the base.
          apply: async (ctx) => {
            await lvm(ctx, 'lvremove', ['-f', `${VG}/Base-0.2`]);
            await lvm(ctx, 'lvcreate', ['-s', `${VG}/Base-0.1`, '-n', 'Base-0.2']);
            await lvm(ctx, 'lvchange', ['-ay', '-K', `${VG}/Base-0.2`]);
          },
          diagnosis: /its origin is Base-0\.1/,
        },
        inactive: { apply: async (ctx) => lvm(ctx, 'lvchange', ['-an', `${VG}/Base-0.2`]), diagnosis: /HostVG\/Base-0\.2 is active[\s\S]*: inactive/ },
      },
    },
    'boot-entry': {
      verify: () => [bootEntryFor('Base-0.1')],
      solve: async (ctx) => writeBootEntry(ctx, 'Base-0.1'),
      hints: ['A boot loader entry is a small text file (the Boot Loader Specification): a title, the kernel (linux), the initrd and the options.', `mkdir -p boot/loader/entries; printf 'title Base-0.1\\nlinux /vmlinuz\\ninitrd /initrd.img\\noptions root=/dev/HostVG/Base-0.1 rw\\n' > boot/loader/entries/Base-0.1.conf`],
      mutants: {
        noKernel: {
          apply: async (ctx) => {
            await writeFile(ctx.path(entry('Base-0.1')), `title    Base-0.1\noptions  root=${dev('Base-0.1')} rw\n`);
          },
          diagnosis: /has no linux line/,
        },
        rootOfTheBase: {
          apply: async (ctx) => {
            await writeFile(ctx.path(entry('Base-0.1')), `title    Base-0.1\nlinux    /vmlinuz\noptions  root=${dev('Base-0')} rw\n`);
          },
          diagnosis: /actual +options root=\/dev\/HostVG\/Base-0 rw/,
        },
      },
    },
    config: {
      verify: () => [thinVolumeIn(VG, 'Config', POOL), lvIsWritable(VG, 'Config'), fileInLv('Config', HOSTNAME, true, `mkdir -p mnt/Config; mount ${dev('Config')} mnt/Config; mkdir -p mnt/Config/etc; echo {{nonce}} > mnt/Config${HOSTNAME}; umount mnt/Config`)],
      solve: async (ctx) => {
        if (!(await lvExists('Config'))) {
          await lvm(ctx, 'lvcreate', ['-V', '128M', '-T', `${VG}/${POOL}`, '-n', 'Config']);
          await ensureNode(ctx, 'Config');
          await ctx.$`mkfs.ext4 -q ${dev('Config')}`;
        }
        if (await passes(fileInLv('Config', HOSTNAME, true), ctx)) return;
        await withMounted(ctx, 'Config', async () => {
          await ctx.$`mkdir -p ${ctx.path(mnt('Config'), 'etc')}`;
          await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(mnt('Config'), HOSTNAME.slice(1))}`;
        });
      },
      hints: ['One more thin LV, writable, for the files that persist: make ext4 on it, mount it, and keep the host name in its etc/hostname.', `lvcreate -V 128M -T HostVG/pool -n Config; mkfs.ext4 /dev/HostVG/Config; mkdir -p mnt/Config; mount /dev/HostVG/Config mnt/Config; mkdir -p mnt/Config/etc; echo {{nonce}} > mnt/Config/etc/hostname; umount mnt/Config`],
      mutants: {
        configLeftEmpty: {
          apply: async (ctx) => {
            await ctx.$`mkfs.ext4 -q -F ${dev('Config')}`;
          },
          diagnosis: /Config has \/etc\/hostname holding the chapter nonce[\s\S]*the file is missing or empty/,
        },
      },
    },
    'new-base': {
      verify: () => [
        thinVolumeIn(VG, 'Base-1', POOL),
        lvIsReadOnly(VG, 'Base-1'),
        lvIsSnapshotOf(VG, 'Base-1.1', 'Base-1'),
        lvIsActive(VG, 'Base-1.1'),
        bootEntryFor('Base-1.1'),
      ],
      solve: async (ctx) => {
        await makeBase(ctx, 'Base-1', '1');
        await makeLayer(ctx, 'Base-1', 'Base-1.1');
        await writeBootEntry(ctx, 'Base-1.1');
      },
      hints: [
        'The same as Base-0 and Base-0.1, for the next image, and a boot entry for Base-1.1.',
        "lvcreate -V 512M -T HostVG/pool -n Base-1; mkfs.ext4 /dev/HostVG/Base-1; mkdir -p mnt/Base-1; mount /dev/HostVG/Base-1 mnt/Base-1; mkdir -p mnt/Base-1/{bin,sbin,usr/bin,usr/sbin,etc}; cp /bin/busybox mnt/Base-1/bin/; chroot mnt/Base-1 /bin/busybox --install -s; umount mnt/Base-1; lvchange -p r HostVG/Base-1; lvcreate -s HostVG/Base-1 -n Base-1.1; lvchange -ay -K HostVG/Base-1.1; sed 's/Base-0.1/Base-1.1/g' boot/loader/entries/Base-0.1.conf > boot/loader/entries/Base-1.1.conf",
      ],
      mutants: {
        layerOfTheOldBase: diagnosed(async (ctx) => {
          await lvm(ctx, 'lvremove', ['-f', `${VG}/Base-1.1`]);
          await lvm(ctx, 'lvcreate', ['-s', `${VG}/Base-0`, '-n', 'Base-1.1']);
          await lvm(ctx, 'lvchange', ['-ay', '-K', `${VG}/Base-1.1`]);
        }, /Base-1\.1 is a thin snapshot of Base-1[\s\S]*its origin is Base-0/),
      },
    },
    persist: {
      verify: () => [
        fileInLv('Base-0.1', PERSISTED, true, `Change the file in the old layer first: mkdir -p mnt/Base-0.1; mount ${dev('Base-0.1')} mnt/Base-0.1; echo {{nonce}} > mnt/Base-0.1${PERSISTED}; umount mnt/Base-0.1`),
        fileInLv('Base-1.1', PERSISTED, true),
        fileInLv('Base-1', PERSISTED, false),
      ],
      solve: async (ctx) => persist(ctx, 'write'),
      hints: ['Mount both layers, change a file in Base-0.1, copy it into Base-1.1, unmount.', 'mount /dev/HostVG/Base-0.1 mnt/Base-0.1; echo {{nonce}} > mnt/Base-0.1/etc/workshop.conf; mount /dev/HostVG/Base-1.1 mnt/Base-1.1; cp -a mnt/Base-0.1/etc/workshop.conf mnt/Base-1.1/etc/; umount mnt/Base-0.1 mnt/Base-1.1'],
    },
    sparse: {
      verify: () => [layerGrewBeyond(VG, 'Base-0.1', 'Base-0', 2), stillSparse('Base-1.1', 'Base-1')],
      solve: async (ctx) => {
        // A Base-1.1 that stopped being sparse (a whole tree copied in, not the changed file) is
        // made again from Base-1 with the one persisted file: imgbased's layer, and the learner's
        // way out without rewinding the whole chapter.
        if (!(await passes(layerIsSparse(VG, 'Base-1.1', 'Base-1', 2), ctx))) {
          await unmount(ctx, mnt('Base-1.1'));
          await lvm(ctx, 'lvremove', ['-f', `${VG}/Base-1.1`]);
          await makeLayer(ctx, 'Base-1', 'Base-1.1');
          await persist(ctx, 'copy');
        }
        if (await passes(layerGrewBeyond(VG, 'Base-0.1', 'Base-0', 2), ctx)) return;
        await ctx.$`mkdir -p ${mnt('Base-0.1')}`;
        await ctx.$`mount ${dev('Base-0.1')} ${mnt('Base-0.1')}`;
        try {
          await ctx.$`dd if=/dev/urandom of=${ctx.path(mnt('Base-0.1'), 'big.bin')} bs=1M count=32 conv=fsync status=none`;
        } finally {
          await unmount(ctx, mnt('Base-0.1'));
        }
      },
      hints: ['Write 32 MiB into Base-0.1, then compare the data% of the layers and the pool with lvs.', 'lvs HostVG; mount /dev/HostVG/Base-0.1 mnt/Base-0.1; dd if=/dev/urandom of=mnt/Base-0.1/big.bin bs=1M count=32 conv=fsync; umount mnt/Base-0.1; lvs HostVG'],
      mutants: {
        copiedEverything: {
          // Persistence by copying a whole tree, not the changed files: the layer stops being sparse.
          apply: async (ctx) => {
            await ctx.$`mkdir -p ${mnt('Base-1.1')}`;
            await ctx.$`mount ${dev('Base-1.1')} ${mnt('Base-1.1')}`;
            try {
              await ctx.$`dd if=/dev/urandom of=${ctx.path(mnt('Base-1.1'), 'copy.bin')} bs=1M count=32 conv=fsync status=none`;
            } finally {
              await unmount(ctx, mnt('Base-1.1'));
            }
          },
          diagnosis: /Base-1\.1 holds only what changed since Base-1[\s\S]*points more/,
        },
      },
    },
    discard: {
      verify: () => [fileGoneFromLv('Base-0.1', BIG), layerIsSparse(VG, 'Base-0.1', 'Base-0', 2)],
      solve: async (ctx) => {
        if ((await passes(fileGoneFromLv('Base-0.1', BIG), ctx)) && (await passes(layerIsSparse(VG, 'Base-0.1', 'Base-0', 2), ctx))) return;
        await withMounted(ctx, 'Base-0.1', async () => {
          await ctx.$`rm -f ${ctx.path(mnt('Base-0.1'), BIG.slice(1))}`;
          await trim(ctx, 'Base-0.1');
        });
      },
      hints: [
        'Delete big.bin in Base-0.1, then tell the pool which blocks are free: fstrim (after sync -f).',
        'mount /dev/HostVG/Base-0.1 mnt/Base-0.1; rm mnt/Base-0.1/big.bin; sync -f mnt/Base-0.1; fstrim -v mnt/Base-0.1; umount mnt/Base-0.1; lvs HostVG',
      ],
      mutants: {
        removedNotTrimmed: {
          // Without a discard, the pool still maps the blocks of the deleted file.
          apply: async (ctx) => {
            await withMounted(ctx, 'Base-0.1', async () => {
              await writeBig(ctx, 'Base-0.1', BIG.slice(1));
              await ctx.$`rm -f ${ctx.path(mnt('Base-0.1'), BIG.slice(1))}`;
            });
          },
          diagnosis: /Base-0\.1 holds only what changed since Base-0[\s\S]*points more/,
        },
        fileKept: {
          apply: async (ctx) => {
            await withMounted(ctx, 'Base-0.1', async () => {
              await writeBig(ctx, 'Base-0.1', BIG.slice(1));
            });
          },
          diagnosis: /\/big\.bin is still there/,
        },
      },
    },
  },
  removes: async (ctx) => {
    const loops = (await readLoopDevices()).filter((l) => l.backFile === ctx.path(IMG)).map((l) => l.name);
    const pvs = await pvsOfVg(VG);
    return [
      ...(await containersUnder([ctx.path('mnt')])).map((pid) => `the process ${pid}, running in a mounted LV`),
      ...mountsUnder(await readMountinfo(), ctx.dir).map((m) => `the mount at ${m.mountPoint.slice(ctx.dir.length + 1)} (${m.source})`),
      ...(pvs.length > 0 && pvs.every((pv) => loops.includes(pv)) ? [`the volume group ${VG}, with every LV in it`] : []),
      ...loops.map((l) => `the loop device ${l} (backed by ${IMG})`),
    ];
  },
  cleanup: async (ctx) => {
    for (const pid of await containersUnder([ctx.path('mnt')])) await ctx.$`kill -9 ${pid}`.nothrow();
    for (const m of mountsUnder(await readMountinfo(), ctx.dir)) await ctx.$`umount ${m.mountPoint}`;
    const loops = await ourLoops(ctx);
    const pvs = await pvsOfVg(VG);
    if (pvs.length > 0 && pvs.every((pv) => loops.includes(pv))) {
      await lvm(ctx, 'vgchange', ['-an', VG]);
      await lvm(ctx, 'vgremove', ['-ff', '-y', VG]);
    } else if (pvs.length > 0) ctx.log(`${VG} is on devices outside this chapter (${pvs.join(', ')}): left alone`);
    for (const loop of loops) {
      await ctx.$`pvremove ${await lvmArgs()} -ff -y ${loop}`.nothrow();
      await ctx.$`losetup -d ${loop}`.nothrow();
    }
  },
});
