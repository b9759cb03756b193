// The LVM picture: VG → thin pool (data%) → thin LVs (ro/rw, origin, active, activation skip),
// and the boot entries that name them. Only where device-mapper has the thin-pool target.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckContext } from '../../checks/check.ts';
import { isActiveLv, isReadOnlyLv, isThinPool, readLvs, skipsActivation } from '../../checks/lvm.ts';
import type { LvmPicture } from '../../contract/state.ts';
import { deviceMapperTarget } from '../../lessons/requires.ts';

/** `options root=/dev/HostVG/Base-0.1 ro` → `/dev/HostVG/Base-0.1`. Pure. */
export function bootEntryRoot(text: string): string | null {
  return /(?:^|\s)root=(\S+)/m.exec(text)?.[1] ?? null;
}

export async function describeLvm(ctx: CheckContext, vg: string, entriesRel = 'boot/loader/entries'): Promise<LvmPicture> {
  const dm = await deviceMapperTarget('thin-pool').probe();
  const entriesDir = ctx.path(entriesRel);
  const bootEntries = await Promise.all(
    (await readdir(entriesDir).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.conf'))
      .sort()
      .map(async (n) => ({ file: join(entriesDir, n), root: bootEntryRoot(await readFile(join(entriesDir, n), 'utf8').catch(() => '')) })),
  );
  if (!dm.ok) return { family: 'lvm', vg, available: false, reason: dm.reason, pools: [], volumes: [], bootEntries };
  const lvs = await readLvs(vg);
  return {
    family: 'lvm',
    vg,
    available: true,
    pools: lvs.filter(isThinPool).map((l) => ({ name: l.name, dataPercent: l.dataPercent })),
    volumes: lvs
      .filter((l) => !isThinPool(l))
      .map((l) => ({ name: l.name, pool: l.pool, origin: l.origin, readOnly: isReadOnlyLv(l), active: isActiveLv(l), skipsActivation: skipsActivation(l), dataPercent: l.dataPercent })),
    bootEntries,
  };
}
