import { access, writeFile, mkdir } from 'node:fs/promises';
import {
  defineChapter, defineCheck, pass, fail, buildBusyboxRootfs, readMountinfo, mountsUnder, processesUnder, runOk, parseLosetupJson,
  LVM_NO_UDEV_CONFIG, readLvs, pvsOfVg, vgOnLoopImage, thinPoolExists, thinVolumeIn, lvIsReadOnly, lvIsWritable, lvIsActive, lvIsSnapshotOf,
  layerIsSparse, layerGrewBeyond, isReadOnlyLv, fileContains, deviceMapperTarget, kernelFs, tool, file,
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
  const loops = parseLosetupJson(await runOk('losetup', ['-J', '-l']));
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

async function writeBootEntry(ctx: SolveContext, layer: string): Promise<void> {
  await mkdir(ctx.path('boot/loader/entries'), { recursive: true });
  ctx.log(`$ cat > ${entry(layer)}`);
  await writeFile(ctx.path(entry(layer)), `title    workshop ${layer}\nlinux    /vmlinuz\ninitrd   /initrd.img\noptions  root=${dev(layer)} rw\n`);
}

/** Reads a file from an ext4 LV without mounting it (debugfs opens the device read-only). */
const fileInLv = (lv: string, path: string, wantNonce: boolean): Check =>
  defineCheck(`${VG}/${lv} ${wantNonce ? 'has' : 'has no'} ${path} holding the chapter nonce`, async (ctx) => {
    const r = await ctx.run('debugfs', ['-R', `cat ${path}`, dev(lv)], { timeoutMs: 10_000 });
    const has = r.code === 0 && r.stdout.includes(ctx.nonce);
    if (has === wantNonce) return pass(has ? `${path} holds the nonce` : `no nonce in ${path}`);
    return wantNonce
      ? fail(`${path} in ${lv} holding the nonce`, r.stdout.trim() === '' ? 'the file is missing or empty' : `it holds ${JSON.stringify(r.stdout.trim().slice(0, 60))}`, `Mount ${lv} and copy the file from Base-0.1: cp -a mnt/Base-0.1${path} mnt/${lv}${path}`)
      : fail(`no nonce in ${lv}:${path}: a base is never written`, 'the nonce is there');
  });

const hasExt4 = (lv: string): Check =>
  defineCheck(`${VG}/${lv} holds an ext4 file system`, async (ctx) => {
    const r = await ctx.run('blkid', ['-o', 'value', '-s', 'TYPE', dev(lv)], { timeoutMs: 10_000 });
    const type = r.stdout.trim();
    return type === 'ext4' ? pass('ext4') : fail('ext4', type === '' ? 'no file system' : type, `mkfs.ext4 ${dev(lv)}`);
  });

const PERSISTED = '/etc/workshop.conf';

export default defineChapter({
  formatVersion: 1,
  id: 'lvm',
  title: 'LVM thin layers, as imgbased does them',
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
      hints: ['Create a thin LV, put ext4 and a busybox rootfs on it, unmount it, and make it read-only.', 'lvcreate -V 512M -T HostVG/pool -n Base-0; mkfs.ext4 /dev/HostVG/Base-0; … ; lvchange -p r HostVG/Base-0'],
      mutants: {
        baseLeftWritable: async (ctx) => lvm(ctx, 'lvchange', ['-p', 'rw', `${VG}/Base-0`]),
      },
    },
    layer: {
      verify: () => [lvIsSnapshotOf(VG, 'Base-0.1', 'Base-0'), lvIsWritable(VG, 'Base-0.1'), lvIsActive(VG, 'Base-0.1')],
      solve: async (ctx) => makeLayer(ctx, 'Base-0', 'Base-0.1'),
      hints: ['A thin snapshot (lvcreate -s) of a thin LV needs no size; it is not activated by default.', 'lvcreate -s HostVG/Base-0 -n Base-0.1; lvchange -ay -K HostVG/Base-0.1'],
      mutants: {
        notASnapshot: async (ctx) => {
          await lvm(ctx, 'lvremove', ['-f', `${VG}/Base-0.1`]);
          await lvm(ctx, 'lvcreate', ['-V', '512M', '-T', `${VG}/${POOL}`, '-n', 'Base-0.1']);
        },
        inactive: async (ctx) => lvm(ctx, 'lvchange', ['-an', `${VG}/Base-0.1`]),
      },
    },
    'boot-entry': {
      verify: () => [fileContains(entry('Base-0.1'), `root=${dev('Base-0.1')}`)],
      solve: async (ctx) => writeBootEntry(ctx, 'Base-0.1'),
      hints: ['A boot loader entry is a small text file (the Boot Loader Specification).', `mkdir -p boot/loader/entries; printf 'title Base-0.1\\noptions root=/dev/HostVG/Base-0.1 rw\\n' > boot/loader/entries/Base-0.1.conf`],
    },
    config: {
      verify: () => [thinVolumeIn(VG, 'Config', POOL), lvIsWritable(VG, 'Config')],
      solve: async (ctx) => {
        if (await lvExists('Config')) return;
        await lvm(ctx, 'lvcreate', ['-V', '128M', '-T', `${VG}/${POOL}`, '-n', 'Config']);
        await ensureNode(ctx, 'Config');
        await ctx.$`mkfs.ext4 -q ${dev('Config')}`;
      },
      hints: ['One more thin LV, writable, for the files that persist.', 'lvcreate -V 128M -T HostVG/pool -n Config; mkfs.ext4 /dev/HostVG/Config'],
    },
    'new-base': {
      verify: () => [
        thinVolumeIn(VG, 'Base-1', POOL),
        lvIsReadOnly(VG, 'Base-1'),
        lvIsSnapshotOf(VG, 'Base-1.1', 'Base-1'),
        lvIsActive(VG, 'Base-1.1'),
        fileContains(entry('Base-1.1'), `root=${dev('Base-1.1')}`),
      ],
      solve: async (ctx) => {
        await makeBase(ctx, 'Base-1', '1');
        await makeLayer(ctx, 'Base-1', 'Base-1.1');
        await writeBootEntry(ctx, 'Base-1.1');
      },
      hints: ['The same as Base-0 and Base-0.1, for the next image.', 'lvcreate -V 512M -T HostVG/pool -n Base-1 … lvchange -p r HostVG/Base-1; lvcreate -s HostVG/Base-1 -n Base-1.1; lvchange -ay -K HostVG/Base-1.1'],
      mutants: {
        layerOfTheOldBase: async (ctx) => {
          await lvm(ctx, 'lvremove', ['-f', `${VG}/Base-1.1`]);
          await lvm(ctx, 'lvcreate', ['-s', `${VG}/Base-0`, '-n', 'Base-1.1']);
          await lvm(ctx, 'lvchange', ['-ay', '-K', `${VG}/Base-1.1`]);
        },
      },
    },
    persist: {
      verify: () => [fileInLv('Base-0.1', PERSISTED, true), fileInLv('Base-1.1', PERSISTED, true), fileInLv('Base-1', PERSISTED, false)],
      solve: async (ctx) => {
        for (const lv of ['Base-0.1', 'Base-1.1']) {
          await ctx.$`mkdir -p ${mnt(lv)}`;
          if (mountsUnder(await readMountinfo(), ctx.path(mnt(lv))).length === 0) await ctx.$`mount ${dev(lv)} ${mnt(lv)}`;
        }
        try {
          await ctx.$`sh -c ${'echo "$1" > "$2"'} - ${ctx.nonce} ${ctx.path(mnt('Base-0.1'), PERSISTED.slice(1))}`;
          await ctx.$`cp -a ${ctx.path(mnt('Base-0.1'), PERSISTED.slice(1))} ${ctx.path(mnt('Base-1.1'), 'etc/')}`;
        } finally {
          await unmount(ctx, mnt('Base-0.1'));
          await unmount(ctx, mnt('Base-1.1'));
        }
      },
      hints: ['Mount both layers, change a file in Base-0.1, copy it into Base-1.1, unmount.', 'mount /dev/HostVG/Base-0.1 mnt/Base-0.1; echo {{nonce}} > mnt/Base-0.1/etc/workshop.conf; mount /dev/HostVG/Base-1.1 mnt/Base-1.1; cp -a mnt/Base-0.1/etc/workshop.conf mnt/Base-1.1/etc/; umount mnt/Base-0.1 mnt/Base-1.1'],
    },
    sparse: {
      verify: () => [layerGrewBeyond(VG, 'Base-0.1', 'Base-0', 2), layerIsSparse(VG, 'Base-1.1', 'Base-1', 1)],
      solve: async (ctx) => {
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
          // A thin pool gets blocks back only when the file system discards them.
          revert: async (ctx) => {
            await ctx.$`mount ${dev('Base-1.1')} ${mnt('Base-1.1')}`;
            try {
              await ctx.$`rm -f ${ctx.path(mnt('Base-1.1'), 'copy.bin')}`;
              // ext4 can discard the freed blocks only once its journal has committed them:
              // fstrim right after rm left Data% at 9.89 %, after sync -f it fell to 3.64 % (qemu guest).
              await ctx.$`sync -f ${ctx.path(mnt('Base-1.1'))}`;
              await ctx.$`fstrim ${ctx.path(mnt('Base-1.1'))}`;
            } finally {
              await unmount(ctx, mnt('Base-1.1'));
            }
          },
        },
      },
    },
  },
  cleanup: async (ctx) => {
    for (const pid of await processesUnder([ctx.path('mnt')])) await ctx.$`kill -9 ${pid}`.nothrow();
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
