import { lstat, readdir, stat } from 'node:fs/promises';
import { defineChapter, diagnosed, defineCheck, pass, fail, directoryExists, isStaticExecutable, isExecutableFile, symlinkTo, fileExists, fileContains, modifiedSince, pathAbsent, treeManifest, BUSYBOX, ROOTFS_DIRS, containersUnder, verdictOf, type CheckContext } from 'workshop/lesson';

const ROOT = 'rootfs';
const inRoot = (p: string) => `${ROOT}/${p}`;

/**
 * A pristine busybox rootfs holds only its four folders (and usr), bin/busybox, and symlinks to
 * /bin/busybox, including the /linuxrc that `--install -s` makes at the top.
 */
const rootfsPristine = () =>
  defineCheck('rootfs holds only busybox, its folders and its links', async (ctx) => {
    const extra = await notBusybox(ctx);
    return extra.length === 0 ? pass('all entries are busybox\'s') : fail('nothing but busybox, its folders and links', `also: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`, 'Remove what you added, from inside the chroot.');
  });

/** What the rootfs holds besides busybox, its folders and its links (paths relative to it). */
async function notBusybox(ctx: CheckContext): Promise<string[]> {
  const m = await treeManifest(ctx.path(ROOT));
  const dirs = new Set<string>([...ROOTFS_DIRS, 'usr']);
  return [...m].flatMap(([p, e]) => {
    if (e.type === 'dir' && dirs.has(p)) return [];
    if (e.type === 'file' && p === 'bin/busybox') return [];
    if (e.type === 'symlink' && e.target === '/bin/busybox') return [];
    return [p];
  });
}

const inChroot = (cmd: string) => ['chroot', ROOT, '/bin/busybox', 'sh', '-c', cmd];

/** The applets `--install` (without -s) made: hard links to busybox, which a later `--install -s` leaves in place. */
async function hardLinksOfBusybox(ctx: CheckContext): Promise<string[]> {
  const bb = await stat(ctx.path(inRoot('bin/busybox'))).catch(() => null);
  if (bb === null || bb.nlink < 2) return [];
  const out: string[] = [];
  for (const d of ROOTFS_DIRS) {
    for (const name of await readdir(ctx.path(inRoot(d))).catch(() => [] as string[])) {
      const rel = `${d}/${name}`;
      if (rel === 'bin/busybox') continue;
      const st = await lstat(ctx.path(inRoot(rel))).catch(() => null);
      if (st !== null && st.isFile() && st.ino === bb.ino && st.dev === bb.dev) out.push(inRoot(rel));
    }
  }
  return out;
}

/** The links the symlinks step checks, one per folder of the rootfs (and sh, the one everyone uses). */
const LINKS = ['bin/sh', 'bin/ls', 'sbin/ifconfig', 'usr/bin/env', 'usr/sbin/chroot'] as const;

/** How the learner removes the hard links that `--install` without `-s` made, and installs the symlinks. */
const HARD_LINKS_OUT = 'find rootfs -samefile rootfs/bin/busybox ! -path rootfs/bin/busybox -delete; chroot rootfs /bin/busybox --install -s';

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
    // `--install` without `-s` makes hard links, and `--install -s` afterwards does not replace them.
    const hard = await hardLinksOfBusybox(ctx);
    const st = await lstat(ctx.path(inRoot(rel))).catch(() => null);
    if (st !== null && st.isFile() && hard.includes(inRoot(rel))) {
      // said once, on the first link checked; the others point to it
      if (rel !== LINKS[0] && hard.includes(inRoot(LINKS[0]))) return fail('a symlink to /bin/busybox', `a hard link to rootfs/bin/busybox, as ${inRoot(LINKS[0])} above`);
      return fail('a symlink to /bin/busybox', `a hard link to rootfs/bin/busybox (the same inode, ${st.nlink} names): hard links: \`--install\` without \`-s\`. A later \`--install -s\` keeps them`, `Remove the hard links, then install the symlinks: ${HARD_LINKS_OUT}`);
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
      verify: () => LINKS.map(linkInstalled),
      solve: async (ctx) => {
        // What the learner's way out is: the folders first, no hard links in the way, then the links.
        const missing = await missingDirs(ctx);
        if (missing.length > 0) await ctx.$`mkdir -p ${missing}`;
        const hard = await hardLinksOfBusybox(ctx);
        if (hard.length > 0) await ctx.$`find ${ROOT} -samefile ${inRoot('bin/busybox')} ! -path ${inRoot('bin/busybox')} -delete`;
        await ctx.$`chroot ${ROOT} /bin/busybox --install -s`;
      },
      hints: [
        'busybox can install a link for each of its applets; run it inside the new root. It makes no folders: the four of the first step must exist first.',
        'mkdir -p rootfs/bin rootfs/sbin rootfs/usr/bin rootfs/usr/sbin; chroot rootfs /bin/busybox --install -s',
        `Ran it without -s? That made hard links, which --install -s does not replace: ${HARD_LINKS_OUT}`,
      ],
      mutants: {
        // The same trap as the learner meets it: the folders were never made. The failure must name them.
        foldersMissing: diagnosed(async ({ $ }) => {
          await $`rm -rf ${inRoot('usr/bin')} ${inRoot('usr/sbin')}`;
        }, /the folder rootfs\/usr\/bin is missing \(missing: rootfs\/usr\/bin, rootfs\/usr\/sbin\)/),
        // The seed's trap: without usr/bin, --install -s exits 0 and installs only /bin's applets.
        onlyBin: diagnosed(async ({ $ }) => {
          await $`find ${ROOT}/usr/bin ${ROOT}/usr/sbin ${ROOT}/sbin -type l -delete`;
        }, /sbin\/ifconfig is a symlink to \/bin\/busybox[\s\S]*nothing there/),
        // Seen in class: `-s` forgotten. Every applet is then a hard link, and --install -s keeps them.
        hardLinks: diagnosed(async ({ $ }) => {
          await $`find ${ROOT} -type l -delete`;
          await $`chroot ${ROOT} /bin/busybox --install`;
        }, /hard links: `--install` without `-s`[\s\S]*find rootfs -samefile rootfs\/bin\/busybox/),
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
      solve: async (ctx) => {
        await ctx.$`${inChroot('rm -f /HELLO.txt')}`;
        // Whatever else was added makes the rootfs not pristine: remove it too, from inside.
        const extra = await notBusybox(ctx);
        if (extra.length > 0) await ctx.$`${inChroot(`rm -rf ${extra.map((p) => `'/${p.replaceAll("'", `'\\''`)}'`).join(' ')}`)}`;
      },
      hints: ['Remove the file from inside, as you made it.', 'chroot rootfs /bin/busybox sh, then: rm HELLO.txt; exit'],
      mutants: {
        leftovers: diagnosed(async ({ $ }) => {
          await $`touch ${inRoot('usr/notes.txt')}`;
        }, /also: usr\/notes\.txt/),
      },
    },
  },
  cleanup: async ({ $, path }) => {
    // A shell the learner left inside the chroot would keep rootfs busy.
    for (const pid of await containersUnder(path(ROOT))) await $`kill -9 ${pid}`.nothrow();
    // never through a mount the learner left inside (a proc, a bind mount): clean unmounts it
    await $`rm -rf --one-file-system ${path(ROOT)}`;
  },
  removes: async (ctx) => [
    ...(await containersUnder(ctx.path(ROOT))).map((pid) => `the process ${pid}, a shell inside the chroot`),
    ...((await stat(ctx.path(ROOT)).catch(() => null)) ? ['rootfs/, with everything in it: busybox, its links and what you added'] : []),
  ],
});
