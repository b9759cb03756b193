// The btrfs picture: image file (apparent vs allocated) → loop device → mount, then each store's
// subvolume tree (ro, parent UUID, received UUID) and the send streams in the chapter folder.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hasBtrfsSuperblock, parseSubvolumeList, readSendStream, showSubvolume } from '../../checks/btrfs.ts';
import type { CheckContext } from '../../checks/check.ts';
import { runOk } from '../../sys/exec.ts';
import { readLoopDevices } from '../../checks/loop.ts';
import { readMountinfo } from '../../checks/mounts.ts';
import type { BtrfsPicture, BtrfsSubvolume } from '../../contract/state.ts';


async function subvolumesOf(mountPoint: string): Promise<BtrfsSubvolume[]> {
  const list = parseSubvolumeList(await runOk('btrfs', ['subvolume', 'list', mountPoint], { timeoutMs: 10_000 }));
  return Promise.all(
    list.map(async (e) => {
      const info = await showSubvolume(join(mountPoint, e.path)).catch(() => null);
      return { path: e.path, id: e.id, uuid: info?.uuid ?? null, readOnly: info?.readOnly ?? false, parentUuid: info?.parentUuid ?? null, receivedUuid: info?.receivedUuid ?? null };
    }),
  );
}

export async function describeBtrfs(ctx: CheckContext): Promise<BtrfsPicture> {
  const [names, loops, table] = await Promise.all([readdir(ctx.dir).catch(() => [] as string[]), readLoopDevices(), readMountinfo()]);
  const files = (await Promise.all(names.sort().map(async (n) => ({ file: join(ctx.dir, n), st: await stat(join(ctx.dir, n)).catch(() => null) })))).filter((f) => f.st?.isFile());
  const images: BtrfsPicture['images'] = [];
  const streams: BtrfsPicture['streams'] = [];
  for (const { file, st } of files) {
    if (!st) continue;
    const attached = loops.filter((l) => l.backFile === file);
    const btrfs = (await hasBtrfsSuperblock(file).run(ctx)).status === 'pass';
    if (btrfs || attached.length > 0) {
      images.push({
        file,
        apparentBytes: st.size,
        allocatedBytes: st.blocks * 512,
        btrfs,
        loops: attached.map((l) => ({ device: l.name, mountPoints: table.filter((m) => m.source === l.name).map((m) => m.mountPoint) })),
      });
      continue;
    }
    const s = await readSendStream(file).catch(() => null);
    if (s && s.kind !== 'not-a-stream') streams.push({ file, bytes: st.size, kind: s.kind, uuid: s.uuid, parentUuid: s.kind === 'incremental' ? s.parentUuid : null });
  }
  const points = [...new Set(images.flatMap((i) => i.loops.flatMap((l) => l.mountPoints)))];
  const stores = await Promise.all(
    points.map(async (mountPoint) => {
      try {
        return { mountPoint, subvolumes: await subvolumesOf(mountPoint) };
      } catch (err) {
        return { mountPoint, subvolumes: [], error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return { family: 'btrfs', images, stores, streams };
}
