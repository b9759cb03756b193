// LVM checks. They read `lvs --reportformat json` (lvm2 2.03), parsed by a pure function and
// tested on test/fixtures/lvm/ (recorded in a qemu guest: this machine has no device-mapper).
// lv_attr is a fixed-width string (lvs(8), "lv_attr bits"): 1 volume type (t thin pool, V thin
// volume), 2 permissions (w writable, r read-only, R read-only activation of a non-ro volume),
// 5 state (a active), 10 k = activation skip set.
import type { Check, Verdict } from './check.ts';
import { defineCheck, fail, pass } from './check.ts';
import { run, runOk } from '../sys/exec.ts';
import { readLoopDevices } from './loop.ts';
import { resolve } from 'node:path';
import { isRecord } from '../sys/lang.ts';

export const LVS_FIELDS = 'lv_name,vg_name,lv_attr,pool_lv,origin,data_percent';

/**
 * Settings for a machine without udev (this project's qemu guest, containers): lvm would wait
 * for udev forever. Passed with --config so that /etc/lvm/lvm.conf is never edited.
 */
export const LVM_NO_UDEV_CONFIG =
  'activation { udev_sync=0 udev_rules=0 monitoring=0 } devices { obtain_device_list_from_udev=0 } global { use_lvmpolld=0 }';

/** One LV of `lvs --reportformat json`. */
export interface LogicalVolume {
  name: string;
  vg: string;
  attr: string;
  /** the thin pool a thin volume lives in, or null */
  pool: string | null;
  /** the volume this one is a snapshot of, or null */
  origin: string | null;
  /** null for volumes that have no data% (plain linear ones) */
  dataPercent: number | null;
}

const str = (row: Record<string, unknown>, key: string): string => {
  const v = row[key];
  if (typeof v !== 'string') throw new Error(`lvs: a row without "${key}"`);
  return v;
};

/** Parses `lvs --reportformat json -o lv_name,vg_name,lv_attr,pool_lv,origin,data_percent`. Pure. */
export function parseLvsReport(text: string): LogicalVolume[] {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v) || !Array.isArray(v['report'])) throw new Error('lvs: no "report" array (was --reportformat json given?)');
  return v['report'].flatMap((section: unknown) => {
    if (!isRecord(section) || !Array.isArray(section['lv'])) return [];
    return section['lv'].map((row: unknown): LogicalVolume => {
      if (!isRecord(row)) throw new Error('lvs: a row that is not an object');
      const data = str(row, 'data_percent');
      return {
        name: str(row, 'lv_name'),
        vg: str(row, 'vg_name'),
        attr: str(row, 'lv_attr'),
        pool: str(row, 'pool_lv') || null,
        origin: str(row, 'origin') || null,
        dataPercent: data === '' ? null : Number(data),
      };
    });
  });
}

export const isThinPool = (lv: LogicalVolume): boolean => lv.attr[0] === 't';
export const isThinVolume = (lv: LogicalVolume): boolean => lv.attr[0] === 'V';
/** Pure: the LV is read-only (`r` or `R` at position 2 of lv_attr). */
export const isReadOnlyLv = (lv: LogicalVolume): boolean => lv.attr[1] === 'r' || lv.attr[1] === 'R';
export const isActiveLv = (lv: LogicalVolume): boolean => lv.attr[4] === 'a';
export const skipsActivation = (lv: LogicalVolume): boolean => lv.attr[9] === 'k';

const find = (lvs: readonly LogicalVolume[], vg: string, name: string): LogicalVolume | undefined => lvs.find((l) => l.vg === vg && l.name === name);
const missingLv = (vg: string, name: string, lvs: readonly LogicalVolume[]): string => {
  const there = lvs.filter((l) => l.vg === vg).map((l) => l.name);
  return there.length === 0 ? `no volume group ${vg}, or it has no logical volumes` : `no LV ${vg}/${name}; ${vg} has ${there.join(', ')}`;
};

/** Pure: `vg/name` is a thin pool. */
export function judgeThinPool(lvs: readonly LogicalVolume[], vg: string, name: string): Verdict {
  const lv = find(lvs, vg, name);
  if (lv === undefined) return fail(`a thin pool ${vg}/${name}`, missingLv(vg, name, lvs), `lvcreate --type thin-pool -L 800M -n ${name} ${vg}`);
  return isThinPool(lv) ? pass(`${vg}/${name} ${lv.attr}, data ${lv.dataPercent ?? '-'}%`) : fail(`a thin pool ${vg}/${name}`, `attr ${lv.attr}: not a thin pool (t)`);
}

/** Pure: `vg/name` is a thin volume in `pool`. */
export function judgeThinVolume(lvs: readonly LogicalVolume[], vg: string, name: string, pool: string): Verdict {
  const lv = find(lvs, vg, name);
  const expected = `a thin LV ${vg}/${name} in ${pool}`;
  if (lv === undefined) return fail(expected, missingLv(vg, name, lvs), `lvcreate -V 200M -T ${vg}/${pool} -n ${name}`);
  if (!isThinVolume(lv)) return fail(expected, `attr ${lv.attr}: not a thin volume (V)`);
  return lv.pool === pool ? pass(`${vg}/${name} ${lv.attr} in ${pool}`) : fail(expected, `in pool ${lv.pool ?? '(none)'}`);
}

/** Pure: `vg/name` is read-only (attr position 2). */
export function judgeReadOnly(lvs: readonly LogicalVolume[], vg: string, name: string, want: boolean): Verdict {
  const lv = find(lvs, vg, name);
  const expected = `${vg}/${name} ${want ? 'read-only (attr r)' : 'writable (attr w)'}`;
  if (lv === undefined) return fail(expected, missingLv(vg, name, lvs));
  if (isReadOnlyLv(lv) === want) return pass(`attr ${lv.attr}`);
  return fail(expected, `attr ${lv.attr}: ${want ? 'writable: the base can still be changed' : 'read-only'}`, want ? `lvchange -p r ${vg}/${name}` : `lvchange -p rw ${vg}/${name}`);
}

/** Pure: `vg/name` is active (attr position 5). */
export function judgeActive(lvs: readonly LogicalVolume[], vg: string, name: string): Verdict {
  const lv = find(lvs, vg, name);
  if (lv === undefined) return fail(`${vg}/${name} active`, missingLv(vg, name, lvs));
  if (isActiveLv(lv)) return pass(`attr ${lv.attr}${skipsActivation(lv) ? ' (activation skip set: it was activated with -K)' : ''}`);
  return fail(`${vg}/${name} active (attr a)`, `attr ${lv.attr}: inactive`, `A thin snapshot skips activation: lvchange -ay -K ${vg}/${name}, or lvchange --setactivationskip n ${vg}/${name} then lvchange -ay`);
}

/** Pure: `vg/layer` is a thin snapshot whose origin is `base`. */
export function judgeSnapshotOfLv(lvs: readonly LogicalVolume[], vg: string, layer: string, base: string): Verdict {
  const lv = find(lvs, vg, layer);
  const expected = `${vg}/${layer} a thin snapshot of ${base}`;
  if (lv === undefined) return fail(expected, missingLv(vg, layer, lvs), `lvcreate -s ${vg}/${base} -n ${layer}`);
  if (lv.origin === base && isThinVolume(lv)) return pass(`origin ${base}, attr ${lv.attr}`);
  return fail(expected, lv.origin === null ? 'it has no origin: a new volume, not a snapshot' : `its origin is ${lv.origin}`);
}

/**
 * Pure: the layer holds only what changed. A thin snapshot's data% counts the blocks it maps,
 * shared ones included, so a layer and its base (the same virtual size) differ only by what the
 * layer wrote.
 */
export function judgeLayerSparse(lvs: readonly LogicalVolume[], vg: string, layer: string, base: string, maxExtraPercent: number): Verdict {
  const l = find(lvs, vg, layer);
  const b = find(lvs, vg, base);
  const expected = `data% of ${layer} at most ${maxExtraPercent} points above ${base}'s`;
  if (l === undefined || b === undefined) return fail(expected, missingLv(vg, l === undefined ? layer : base, lvs));
  if (l.dataPercent === null || b.dataPercent === null) return fail(expected, 'no data% for them: are they thin volumes?');
  const extra = l.dataPercent - b.dataPercent;
  return extra <= maxExtraPercent
    ? pass(`${layer} ${l.dataPercent.toFixed(2)}%, ${base} ${b.dataPercent.toFixed(2)}%`)
    : fail(expected, `${layer} ${l.dataPercent.toFixed(2)}% against ${base} ${b.dataPercent.toFixed(2)}%: ${extra.toFixed(2)} points more`, 'Copy only the files that must persist, not a whole tree.');
}

/** Pure: the layer maps at least `minExtraPercent` points more than its base: what was written landed in it. */
export function judgeLayerGrew(lvs: readonly LogicalVolume[], vg: string, layer: string, base: string, minExtraPercent: number): Verdict {
  const l = find(lvs, vg, layer);
  const b = find(lvs, vg, base);
  const expected = `data% of ${layer} at least ${minExtraPercent} points above ${base}'s`;
  if (l === undefined || b === undefined) return fail(expected, missingLv(vg, l === undefined ? layer : base, lvs));
  if (l.dataPercent === null || b.dataPercent === null) return fail(expected, 'no data% for them: are they thin volumes?');
  const extra = l.dataPercent - b.dataPercent;
  return extra >= minExtraPercent
    ? pass(`${layer} ${l.dataPercent.toFixed(2)}% against ${base} ${b.dataPercent.toFixed(2)}%`)
    : fail(expected, `${layer} ${l.dataPercent.toFixed(2)}%, ${base} ${b.dataPercent.toFixed(2)}%`, `Write some data into the layer: dd if=/dev/urandom of=mnt/${layer}/big.bin bs=1M count=32`);
}

// --- probes -----------------------------------------------------------------------------------

const lvsRunning = new Map<string, Promise<LogicalVolume[]>>();

/**
 * The LVs of a volume group, from `lvs --reportformat json`; empty when the VG does not exist.
 * Calls made while one `lvs` of the same VG runs share its report: the checks of one verify run
 * at once, and each spawned its own `lvs` (up to five per verify, seconds in a qemu guest).
 */
export function readLvs(vg: string): Promise<LogicalVolume[]> {
  const running = lvsRunning.get(vg);
  if (running !== undefined) return running;
  const report = lvsReport(vg).finally(() => lvsRunning.delete(vg));
  lvsRunning.set(vg, report);
  return report;
}

async function lvsReport(vg: string): Promise<LogicalVolume[]> {
  const out = await runOk('lvs', ['--config', LVM_NO_UDEV_CONFIG, '--reportformat', 'json', '-o', LVS_FIELDS, vg], { timeoutMs: 20_000 }).catch((err: unknown) => {
    // lvs exits 5 for a VG that does not exist; that is an empty report, not a broken probe.
    if (err instanceof Error && /exit 5|not found|Volume group .* not found/i.test(err.message)) return '{"report":[{"lv":[]}]}';
    throw err;
  });
  return parseLvsReport(out);
}

const lvmCheck = (name: string, judge: (lvs: LogicalVolume[]) => Verdict, vg: string): Check => defineCheck(name, async () => judge(await readLvs(vg)));

/** A thin pool `vg/pool` exists. */
export const thinPoolExists = (vg: string, pool: string): Check => lvmCheck(`${vg}/${pool} is a thin pool`, (l) => judgeThinPool(l, vg, pool), vg);
/** A thin LV `vg/name` exists in the pool `pool`. */
export const thinVolumeIn = (vg: string, name: string, pool: string): Check => lvmCheck(`${vg}/${name} is a thin LV in ${pool}`, (l) => judgeThinVolume(l, vg, name, pool), vg);
/** The LV `vg/name` is read-only (`lvchange -p r`). */
export const lvIsReadOnly = (vg: string, name: string): Check => lvmCheck(`${vg}/${name} is read-only`, (l) => judgeReadOnly(l, vg, name, true), vg);
/** The LV `vg/name` is writable. */
export const lvIsWritable = (vg: string, name: string): Check => lvmCheck(`${vg}/${name} is writable`, (l) => judgeReadOnly(l, vg, name, false), vg);
/** The LV `vg/name` is active (position 5 of lv_attr). */
export const lvIsActive = (vg: string, name: string): Check => lvmCheck(`${vg}/${name} is active`, (l) => judgeActive(l, vg, name), vg);
/** The LV `vg/layer` is a thin snapshot whose origin is `base`. */
export const lvIsSnapshotOf = (vg: string, layer: string, base: string): Check => lvmCheck(`${vg}/${layer} is a thin snapshot of ${base}`, (l) => judgeSnapshotOfLv(l, vg, layer, base), vg);
/** The thin layer `layer` holds at least `minExtraPercent` points of the pool more than `base`: what was written to it landed in it. */
export const layerGrewBeyond = (vg: string, layer: string, base: string, minExtraPercent: number): Check =>
  lvmCheck(`${vg}/${layer} grew beyond ${base} by what was written`, (l) => judgeLayerGrew(l, vg, layer, base, minExtraPercent), vg);
/** The thin layer `layer` holds at most `maxExtraPercent` points more than `base`: only what changed. */
export const layerIsSparse = (vg: string, layer: string, base: string, maxExtraPercent: number): Check =>
  lvmCheck(`${vg}/${layer} holds only what changed since ${base}`, (l) => judgeLayerSparse(l, vg, layer, base, maxExtraPercent), vg);

/** `pvs --noheadings -o pv_name --select vg_name=VG`: one device per line, indented. Pure. */
export const parsePvNames = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** Pure: every PV of the VG is a loop device backed by `image`. */
export function judgeVgOnImage(vg: string, pvs: readonly string[], loops: ReadonlyArray<{ name: string; backFile: string | null }>, image: string): Verdict {
  const expected = `volume group ${vg} on a loop device backed by ${image}`;
  if (pvs.length === 0) return fail(expected, `no volume group ${vg}`, `losetup -f --show ${image}; pvcreate /dev/loopN; vgcreate ${vg} /dev/loopN`);
  const foreign = pvs.filter((pv) => loops.find((l) => l.name === pv)?.backFile !== image);
  return foreign.length === 0 ? pass(`${vg} on ${pvs.join(', ')}`) : fail(expected, `${vg} has PVs that are not ${image}: ${foreign.join(', ')}`);
}

/** The physical volumes of a volume group (`pvs`); empty when it does not exist. */
export async function pvsOfVg(vg: string): Promise<string[]> {
  const r = await run('pvs', ['--config', LVM_NO_UDEV_CONFIG, '--noheadings', '-o', 'pv_name', '--select', `vg_name=${vg}`], { timeoutMs: 20_000 });
  return r.code === 0 ? parsePvNames(r.stdout) : [];
}

/** The volume group `vg` lives on a loop device backed by `image`. */
export const vgOnLoopImage = (vg: string, image: string): Check =>
  defineCheck(`${vg} lives on a loop device backed by ${image}`, async (ctx) => {
    const [pvs, loops] = await Promise.all([pvsOfVg(vg), readLoopDevices()]);
    return judgeVgOnImage(vg, pvs, loops, resolve(ctx.dir, image));
  });
