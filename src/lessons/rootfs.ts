// The busybox rootfs that several chapters start from. The seeds used pacstrap or wget; Debian's
// busybox-static gives the same thing offline.
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
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
