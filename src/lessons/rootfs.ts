// The busybox rootfs that several chapters start from. The seeds used pacstrap or wget; Debian's
// busybox-static gives the same thing offline.
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readElf } from '../checks/chroot.ts';
import type { SolveContext } from './define.ts';

/** Debian's static busybox (package busybox-static), which the rootfs of the chapters is built from. */
export const BUSYBOX = '/bin/busybox';
/** The folders `busybox --install -s` needs before it runs (it fails silently for the applets of a missing one). */
export const ROOTFS_DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin'] as const;

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/**
 * Makes `dir` a busybox rootfs: the four folders first (without them `busybox --install -s`
 * exits 0 but installs only 77 of its applets), the static binary, then the symlinks.
 * Idempotent: an existing busybox and its links are left as they are.
 */
export async function buildBusyboxRootfs({ $ }: SolveContext, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!(await Promise.all(ROOTFS_DIRS.map((d) => exists(join(dir, d))))).every(Boolean)) {
    await $`mkdir -p ${ROOTFS_DIRS.map((d) => join(dir, d))}`;
  }
  if (!(await exists(join(dir, 'bin/busybox')))) await $`cp ${BUSYBOX} ${join(dir, 'bin/busybox')}`;
  await $`chmod +x ${join(dir, 'bin/busybox')}`;
  if (!(await exists(join(dir, 'bin/sh')))) await $`chroot ${dir} /bin/busybox --install -s`;
}

/**
 * Where `vagrant/provision.sh` keeps Debian's dynamically linked busybox package (`apt-get
 * download busybox`; it conflicts with busybox-static, so it is never installed). The self-test's
 * controls build real-image roots from it: the chapters must accept them.
 */
export const CONTROL_DEBS = '/var/cache/workshop/debs';

/**
 * How a dynamic BusyBox finds its loader in a control root. `as-packaged`: at Debian's path, which
 * the host has too. `inside-only`: the loader renamed, in the binary and in the root, so that the
 * host has none by that name: the binary runs only inside the root, as Alpine's BusyBox (linked
 * against musl, /lib/ld-musl-x86_64.so.1) does on a Debian host.
 */
export type LoaderPlace = 'as-packaged' | 'inside-only';

/** The libraries `ldd` names, by absolute path (the loader too; the vDSO has none). Pure. */
export function parseLdd(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1] !== undefined && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

/** `/lib64/ld-linux-x86-64.so.2` -> `/lib64/ld-wsbox-x86-64.so.2`: a name of the same length that no host has. Pure. */
export function insideOnlyLoader(interp: string): string {
  const renamed = interp.replace('/ld-linux', '/ld-wsbox');
  if (renamed === interp) throw new Error(`cannot rename the loader ${interp}: it has no /ld-linux in its name`);
  return renamed;
}

/**
 * Makes `dir` a root file system with Debian's dynamically linked BusyBox (from its package in
 * {@link CONTROL_DEBS}), its loader and its libraries, and the applet symlinks: a real image's
 * kind of root, which runs under chroot as the static one does. Whatever `dir` held is replaced;
 * `dir` itself stays (a subvolume stays a subvolume). The package is unpacked in the chapter folder.
 */
export async function buildDynamicBusyboxRootfs({ $, dir: chapterDir }: Pick<SolveContext, '$' | 'dir'>, dir: string, loader: LoaderPlace): Promise<void> {
  const deb = (await readdir(CONTROL_DEBS).catch(() => [])).filter((n) => /^busybox_.*\.deb$/.test(n)).sort().at(-1);
  if (deb === undefined) throw new Error(`no Debian busybox package in ${CONTROL_DEBS}: vagrant/provision.sh keeps one there for the self-test's controls (apt-get download busybox)`);
  const unpacked = await mkdtemp(join(chapterDir, '.ws-busybox-deb-'));
  try {
    await $`dpkg-deb -x ${join(CONTROL_DEBS, deb)} ${unpacked}`;
    const found = (await Promise.all(['bin/busybox', 'usr/bin/busybox'].map(async (p) => ((await exists(join(unpacked, p))) ? join(unpacked, p) : null)))).find((p) => p !== null);
    if (found === undefined || found === null) throw new Error(`${deb} has no bin/busybox`);
    const elf = await readElf(found);
    const interp = elf.kind === 'elf' ? elf.interpreter : null;
    if (interp === null) throw new Error(`${deb}: its busybox is not dynamically linked`);
    const libs = parseLdd((await $`ldd ${found}`).stdout).filter((l) => l !== interp);
    // Emptied, not removed: `dir` may be a btrfs subvolume, which must stay one.
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
    await $`mkdir -p ${[...ROOTFS_DIRS, 'proc', 'tmp'].map((d) => join(dir, d))}`;
    for (const lib of libs) {
      await $`mkdir -p ${join(dir, dirname(lib))}`;
      await $`cp -L ${lib} ${join(dir, lib)}`;
    }
    const loaderAt = loader === 'as-packaged' ? interp : insideOnlyLoader(interp);
    await $`mkdir -p ${join(dir, dirname(loaderAt))}`;
    await $`cp -L ${interp} ${join(dir, loaderAt)}`;
    const binary = await readFile(found);
    if (loaderAt !== interp) {
      // The same length, in the PT_INTERP segment (the first copy of the path in the file).
      const at = binary.indexOf(Buffer.from(`${interp}\0`, 'latin1'));
      if (at < 0) throw new Error(`${deb}: the loader path ${interp} is not in its busybox`);
      binary.write(loaderAt, at, 'latin1');
    }
    await writeFile(join(dir, 'bin/busybox'), binary, { mode: 0o755 });
    await $`chroot ${dir} /bin/busybox --install -s`;
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
}
