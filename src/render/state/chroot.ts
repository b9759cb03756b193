// The chroot: the rootfs folders, a static busybox, its applets, HELLO.txt.
import type { ChrootPicture } from '../../contract/state.ts';
import { type St, rel, yes } from './draw.ts';

export function drawChroot(p: ChrootPicture, dir: string, st: St): string[] {
  if (!p.exists) return [yes(st, false, `${rel(p.rootfs, dir)}/ does not exist yet`)];
  const missing = p.folders.filter((f) => !f.present).map((f) => f.path);
  const bb = p.busybox;
  return [
    `${st('bold', `${rel(p.rootfs, dir)}/`)}`,
    `├─ ${yes(st, missing.length === 0, missing.length === 0 ? 'bin sbin usr/bin usr/sbin' : `missing folders: ${missing.join(' ')}`)}`,
    `├─ ${yes(st, bb.present && bb.executable && bb.static === true, `bin/busybox: ${bb.present ? `${bb.detail}${bb.executable ? '' : ', not executable'}` : 'absent'}`)}`,
    `├─ ${yes(st, p.applets > 100, `${p.applets} applets linked to /bin/busybox`)}`,
    // HELLO.txt comes and goes with the steps (made in enter, removed in cleanup-hello): absent is no error.
    `└─ ${p.hello.present ? yes(st, p.hello.holdsNonce, `HELLO.txt: ${p.hello.holdsNonce ? 'holds the nonce' : 'there, without the nonce'}`) : `${st('dim', '·')} HELLO.txt: absent`}`,
  ];
}
