import { stat } from 'node:fs/promises';
import { defineChapter, diagnosed, defineCheck, pass, fail, directoryExists, isStaticExecutable, isExecutableFile, symlinkTo, fileExists, fileContains, modifiedSince, pathAbsent, treeManifest, BUSYBOX, ROOTFS_DIRS, containersUnder, verdictOf, type CheckContext } from 'workshop/lesson';

const ROOT = 'rootfs';
const inRoot = (p: string) => `${ROOT}/${p}`;

/**
 * A pristine busybox rootfs holds only its four folders (and usr), bin/busybox, and symlinks to
 * /bin/busybox, including the /linuxrc that `--install -s` makes at the top.
 */
const rootfsPristine = () =>
  defineCheck('rootfs holds only busybox, its folders and its links', async (ctx) => {
    const m = await treeManifest(ctx.path(ROOT));
    const dirs = new Set<string>([...ROOTFS_DIRS, 'usr']);
    const extra = [...m].flatMap(([p, e]) => {
      if (e.type === 'dir' && dirs.has(p)) return [];
      if (e.type === 'file' && p === 'bin/busybox') return [];
      if (e.type === 'symlink' && e.target === '/bin/busybox') return [];
      return [p];
    });
    return extra.length === 0 ? pass(`${m.size} entries, all busybox's`) : fail('nothing but busybox, its folders and links', `also: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`, 'Remove what you added, from inside the chroot.');
  });

const inChroot = (cmd: string) => ['chroot', ROOT, '/bin/busybox', 'sh', '-c', cmd];

const missingDirs = (ctx: CheckContext) => Promise.all(ROOTFS_DIRS.map(async (d) => ((await stat(ctx.path(inRoot(d))).then((s) => s.isDirectory(), () => false)) ? [] : [inRoot(d)]))).then((l) => l.flat());

/**
 * A link --install -s should have made. The seed's trap: with a folder missing, it skips every
 * link that belongs there and still exits 0, so name the folder, not only the missing link.
 */
const linkInstalled = (rel: string) => {
  const plain = symlinkTo(inRoot(rel), '/bin/busybox', { root: ROOT });
  return defineCheck(plain.name, async (ctx) => {
    const missing = await missingDirs(ctx);
    const folder = inRoot(rel.split('/').slice(0, -1).join('/'));
    if (missing.includes(folder)) {
      return fail('a symlink to /bin/busybox', `nothing there: the folder ${folder} is missing (missing: ${missing.join(', ')}), so --install -s skipped every link that belongs in it`, `busybox cannot make folders. Create them, then install again: mkdir -p ${missing.join(' ')}; chroot rootfs /bin/busybox --install -s`);
    }
    return verdictOf(plain, ctx);
  });
};

export default defineChapter({
  formatVersion: 1,
  id: 'chroot',
  title: 'A container from a chroot',
  state: 'chroot',
  steps: {
    'rootfs-dirs': {
      verify: () => ROOTFS_DIRS.map((d) => directoryExists(inRoot(d))),
      solve: async ({ $ }) => {
        await $`mkdir -p ${ROOTFS_DIRS.map(inRoot)}`;
      },
      hints: ['mkdir -p makes a folder and its parents.', 'mkdir -p rootfs/bin rootfs/sbin rootfs/usr/bin rootfs/usr/sbin'],
      mutants: {
        noUsrSbin: diagnosed(async ({ $ }) => {
          await $`rmdir ${inRoot('usr/sbin')}`;
        }, /rootfs\/usr\/sbin is a directory[\s\S]*nothing there/),
      },
    },
    busybox: {
      verify: () => [isExecutableFile(inRoot('bin/busybox')), isStaticExecutable(inRoot('bin/busybox'))],
      solve: async ({ $ }) => {
        await $`cp ${BUSYBOX} ${inRoot('bin/busybox')}`;
        await $`chmod +x ${inRoot('bin/busybox')}`;
      },
      hints: ['Debian\'s busybox-static package installed a static busybox at /bin/busybox.', 'cp /bin/busybox rootfs/bin/busybox && chmod +x rootfs/bin/busybox'],
      mutants: {
        dynamicBinary: diagnosed(async ({ $ }) => {
          await $`cp /bin/ls ${inRoot('bin/busybox')}`;
        }, /dynamically linked, interpreter/),
        notExecutable: diagnosed(async ({ $ }) => {
          await $`chmod -x ${inRoot('bin/busybox')}`;
        }, /an execute bit \(x\)[\s\S]*chmod \+x/),
      },
    },
    symlinks: {
      verify: () => ['bin/sh', 'bin/ls', 'sbin/ifconfig', 'usr/bin/env', 'usr/sbin/chroot'].map(linkInstalled),
      solve: async ({ $ }) => {
        await $`chroot ${ROOT} /bin/busybox --install -s`;
      },
      hints: [
        'busybox can install a link for each of its applets; run it inside the new root. It makes no folders: the four of the first step must exist first.',
        'mkdir -p rootfs/bin rootfs/sbin rootfs/usr/bin rootfs/usr/sbin; chroot rootfs /bin/busybox --install -s',
      ],
      mutants: {
        // The same trap as the learner meets it: the folders were never made. The failure must name them.
        foldersMissing: {
          apply: async ({ $ }) => {
            await $`rm -rf ${inRoot('usr/bin')} ${inRoot('usr/sbin')}`;
          },
          revert: async ({ $ }) => {
            await $`mkdir -p ${inRoot('usr/bin')} ${inRoot('usr/sbin')}`;
          },
          diagnosis: /the folder rootfs\/usr\/bin is missing \(missing: rootfs\/usr\/bin, rootfs\/usr\/sbin\)/,
        },
        // The seed's trap: without usr/bin, --install -s exits 0 and installs only /bin's applets.
        onlyBin: diagnosed(async ({ $ }) => {
          await $`find ${ROOT}/usr/bin ${ROOT}/usr/sbin ${ROOT}/sbin -type l -delete`;
        }, /sbin\/ifconfig is a symlink to \/bin\/busybox[\s\S]*nothing there/),
      },
    },
    enter: {
      verify: () => [fileExists(inRoot('HELLO.txt')), modifiedSince(inRoot('HELLO.txt'))],
      solve: async ({ $ }) => {
        await $`${inChroot('touch /HELLO.txt')}`;
      },
      hints: ['Start busybox\'s shell inside the rootfs with chroot, and touch a file at its top.', 'PS1="C-$ " chroot rootfs /bin/busybox sh, then: touch HELLO.txt; exit'],
      mutants: {
        stale: diagnosed(async ({ $ }) => {
          await $`touch -d 2001-01-01 ${inRoot('HELLO.txt')}`;
        }, /before the chapter started/),
      },
    },
    mutable: {
      verify: (ctx) => [fileContains(inRoot('HELLO.txt'), ctx.nonce)],
      solve: async ({ $, nonce }) => {
        await $`${inChroot(`echo ${nonce} > /HELLO.txt`)}`;
      },
      hints: ['Inside the chroot, write the nonce that this step shows into /HELLO.txt.', 'chroot rootfs /bin/busybox sh, then: echo <the nonce> > /HELLO.txt; exit'],
      mutants: {
        wrongText: diagnosed(async ({ $ }) => {
          await $`echo hello > ${inRoot('HELLO.txt')}`;
        }, /without it: "hello/),
      },
    },
    'cleanup-hello': {
      // HELLO.txt goes, on purpose: enter and mutable no longer hold after this step.
      undoes: ['enter', 'mutable'],
      verify: () => [pathAbsent(inRoot('HELLO.txt')), rootfsPristine()],
      solve: async ({ $ }) => {
        await $`${inChroot('rm -f /HELLO.txt')}`;
      },
      hints: ['Remove the file from inside, as you made it.', 'chroot rootfs /bin/busybox sh, then: rm HELLO.txt; exit'],
      mutants: {
        leftovers: {
          apply: async ({ $ }) => {
            await $`touch ${inRoot('usr/notes.txt')}`;
          },
          revert: async ({ $ }) => {
            await $`rm -f ${inRoot('usr/notes.txt')}`;
          },
          diagnosis: /also: usr\/notes\.txt/,
        },
      },
    },
  },
  cleanup: async ({ $, path }) => {
    // A shell the learner left inside the chroot would keep rootfs busy.
    for (const pid of await containersUnder(path(ROOT))) await $`kill -9 ${pid}`.nothrow();
    // never through a mount the learner left inside (a proc, a bind mount): clean unmounts it
    await $`rm -rf --one-file-system ${path(ROOT)}`;
  },
});
