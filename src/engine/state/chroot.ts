// The chroot picture: the rootfs folders, busybox and its applet links, HELLO.txt. It runs the
// same checks the chapter's steps use (isStaticExecutable…), so the picture and `next` agree.
import { readFile } from 'node:fs/promises';
import type { CheckContext, CheckResult } from '../../checks/check.ts';
import { isStaticExecutable } from '../../checks/chroot.ts';
import { directoryExists, isExecutableFile, treeManifest } from '../../checks/files.ts';
import type { ChrootPicture } from '../../contract/state.ts';
import { BUSYBOX, ROOTFS_DIRS } from '../../lessons/rootfs.ts';

const passed = (r: CheckResult): boolean => r.status === 'pass';
const said = (r: CheckResult): string => (r.status === 'error' ? r.error : r.actual);

export async function describeChroot(ctx: CheckContext, rootfs = 'rootfs'): Promise<ChrootPicture> {
  const root = ctx.path(rootfs);
  const bin = `${rootfs}/bin/busybox`;
  const [exists, folders, executable, isStatic, manifest, hello] = await Promise.all([
    directoryExists(rootfs).run(ctx).then(passed),
    Promise.all(ROOTFS_DIRS.map(async (d) => ({ path: d, present: passed(await directoryExists(`${rootfs}/${d}`).run(ctx)) }))),
    isExecutableFile(bin).run(ctx),
    isStaticExecutable(bin).run(ctx),
    treeManifest(root).catch(() => new Map()),
    readFile(ctx.path(rootfs, 'HELLO.txt'), 'utf8').catch(() => null),
  ]);
  const applets = [...manifest.values()].filter((e) => e.type === 'symlink' && e.target === BUSYBOX).length;
  const present = !/nothing there/.test(said(executable));
  return {
    family: 'chroot',
    rootfs: root,
    exists,
    folders,
    busybox: { present, executable: passed(executable), static: present ? passed(isStatic) : null, detail: present ? said(isStatic) : said(executable) },
    applets,
    hello: { present: hello !== null, holdsNonce: hello !== null && hello.includes(ctx.nonce) },
  };
}
