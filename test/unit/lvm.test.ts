// The LVM parser and judges, on `lvs --reportformat json -o lv_name,vg_name,lv_attr,pool_lv,origin,data_percent`.
// lvs-imgbased-thin.json was recorded in a qemu guest with device-mapper (see test/fixtures/README.md).
// The two lvs-derived-*.json files are NOT recordings: they are that file edited by hand, one field
// each, to make the mutant states this machine cannot produce (it has no device-mapper):
//   lvs-derived-base-writable.json:      Base-0's lv_attr Vri-a-tz-- -> Vwi-a-tz-- (a base left writable)
//   lvs-derived-layer-not-snapshot.json: Base-0.1's origin "Base-0" -> "" (a layer that is not a snapshot)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  judgeActive, judgeLayerGrew, judgeLayerSparse, judgeReadOnly, judgeSnapshotOfLv, judgeThinPool, judgeThinVolume, judgeVgOnImage,
  parseLvsReport, parsePvNames, readLvs, skipsActivation, type LogicalVolume,
} from '../../src/checks/lvm.ts';

const fixture = (name: string): LogicalVolume[] => parseLvsReport(readFileSync(new URL(`../fixtures/lvm/${name}`, import.meta.url), 'utf8'));
const recorded = fixture('lvs-imgbased-thin.json');

describe('parseLvsReport', () => {
  it('reads every LV of the recorded imgbased layout', () => {
    expect(recorded.map((l) => [l.name, l.vg, l.attr, l.pool, l.origin, l.dataPercent])).toEqual([
      ['Base-0', 'HostVG', 'Vri-a-tz--', 'pool', null, 0],
      ['Base-0.1', 'HostVG', 'Vwi-a-tz-k', 'pool', 'Base-0', 0],
      ['pool', 'HostVG', 'twi-aotz--', null, null, 0],
    ]);
  });

  it('reads the empty report that lvs gives on a machine without device-mapper', () => {
    expect(fixture('lvs-no-dm-empty.json')).toEqual([]);
  });

  it('sees the activation skip flag of a thin snapshot (attr position 10)', () => {
    expect(recorded.filter(skipsActivation).map((l) => l.name)).toEqual(['Base-0.1']);
  });

  it.each([
    ['not JSON', 'lvs: error', /JSON/],
    ['no report', '{"lv":[]}', /no "report" array/],
    ['a row without lv_attr', '{"report":[{"lv":[{"lv_name":"x","vg_name":"v","pool_lv":"","origin":"","data_percent":""}]}]}', /lv_attr/],
  ])('throws a clear error on %s', (_what, text, message) => {
    expect(() => parseLvsReport(text)).toThrow(message);
  });
});

describe('imgbased checks on the recorded layout', () => {
  it('accepts the pool, the read-only base and its writable, active layer', () => {
    const verdicts = [
      judgeThinPool(recorded, 'HostVG', 'pool'),
      judgeThinVolume(recorded, 'HostVG', 'Base-0', 'pool'),
      judgeReadOnly(recorded, 'HostVG', 'Base-0', true),
      judgeSnapshotOfLv(recorded, 'HostVG', 'Base-0.1', 'Base-0'),
      judgeReadOnly(recorded, 'HostVG', 'Base-0.1', false),
      judgeActive(recorded, 'HostVG', 'Base-0.1'),
      judgeLayerSparse(recorded, 'HostVG', 'Base-0.1', 'Base-0', 1),
    ];
    expect(verdicts.map((v) => v.ok)).toEqual([true, true, true, true, true, true, true]);
  });

  it('rejects a base LV left writable', () => {
    expect(judgeReadOnly(fixture('lvs-derived-base-writable.json'), 'HostVG', 'Base-0', true)).toEqual({
      ok: false,
      expected: 'HostVG/Base-0 read-only (attr r)',
      actual: 'attr Vwi-a-tz--: writable: the base can still be changed',
      hint: 'lvchange -p r HostVG/Base-0',
    });
  });

  it('rejects a layer that is not a snapshot of its base', () => {
    expect(judgeSnapshotOfLv(fixture('lvs-derived-layer-not-snapshot.json'), 'HostVG', 'Base-0.1', 'Base-0')).toMatchObject({
      ok: false,
      actual: 'it has no origin: a new volume, not a snapshot',
    });
  });

  it('rejects a layer of the wrong base', () => {
    expect(judgeSnapshotOfLv(recorded, 'HostVG', 'Base-0.1', 'Base-1')).toMatchObject({ ok: false, actual: 'its origin is Base-0' });
  });

  it('rejects a pool that is not a thin pool, and names the missing LVs', () => {
    expect(judgeThinPool(recorded, 'HostVG', 'Base-0')).toMatchObject({ ok: false, actual: 'attr Vri-a-tz--: not a thin pool (t)' });
    expect(judgeThinVolume(recorded, 'HostVG', 'Config', 'pool')).toMatchObject({ ok: false, actual: 'no LV HostVG/Config; HostVG has Base-0, Base-0.1, pool' });
    expect(judgeThinPool([], 'HostVG', 'pool')).toMatchObject({ ok: false, actual: 'no volume group HostVG, or it has no logical volumes' });
  });

  it('tells a layer that grew from one that holds only what changed', () => {
    // Base-0.1 after 10 MiB were written into it (Machine facts: Data% 10.00 on a 100 MiB LV).
    const grown = recorded.map((l) => (l.name === 'Base-0.1' ? { ...l, dataPercent: 10 } : l));
    expect(judgeLayerGrew(grown, 'HostVG', 'Base-0.1', 'Base-0', 2).ok).toBe(true);
    expect(judgeLayerGrew(recorded, 'HostVG', 'Base-0.1', 'Base-0', 2).ok).toBe(false);
    expect(judgeLayerSparse(grown, 'HostVG', 'Base-0.1', 'Base-0', 1)).toMatchObject({ ok: false, actual: 'Base-0.1 10.00% against Base-0 0.00%: 10.00 points more' });
  });

  it('rejects an inactive layer', () => {
    const inactive = recorded.map((l) => (l.name === 'Base-0.1' ? { ...l, attr: 'Vwi---tz-k' } : l));
    expect(judgeActive(inactive, 'HostVG', 'Base-0.1')).toMatchObject({ ok: false, actual: 'attr Vwi---tz-k: inactive' });
  });
});

describe('the volume group on its loop image', () => {
  const loops = [{ name: '/dev/loop3', backFile: '/w/hostvg.img' }, { name: '/dev/loop4', backFile: '/elsewhere.img' }];
  it('accepts a VG whose only PV is backed by the image', () => {
    expect(judgeVgOnImage('HostVG', parsePvNames('  /dev/loop3\n'), loops, '/w/hostvg.img').ok).toBe(true);
  });
  it('rejects a VG with a PV from elsewhere, and a missing VG', () => {
    expect(judgeVgOnImage('HostVG', ['/dev/loop3', '/dev/loop4'], loops, '/w/hostvg.img')).toMatchObject({ ok: false, actual: 'HostVG has PVs that are not /w/hostvg.img: /dev/loop4' });
    expect(judgeVgOnImage('HostVG', [], loops, '/w/hostvg.img')).toMatchObject({ ok: false, actual: 'no volume group HostVG' });
  });
});

describe('readLvs', () => {
  // A stand-in lvs on PATH that logs each start and prints the recorded report after a pause.
  let dir: string;
  let path: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ws-lvs-'));
    const report = fileURLToPath(new URL('../fixtures/lvm/lvs-imgbased-thin.json', import.meta.url));
    writeFileSync(join(dir, 'lvs'), `#!/bin/sh\necho "$@" >> "${dir}/calls"\nsleep 0.2\ncat "${report}"\n`, { mode: 0o755 });
    path = process.env['PATH'];
    process.env['PATH'] = `${dir}:${path ?? ''}`;
  });
  afterEach(() => {
    process.env['PATH'] = path;
    rmSync(dir, { recursive: true, force: true });
  });
  const calls = (): number => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').length;

  it('runs one lvs for the checks of a verify that read it at once, and a new one afterwards', async () => {
    const reports = await Promise.all([readLvs('HostVG'), readLvs('HostVG'), readLvs('HostVG')]);
    expect(calls()).toBe(1);
    expect(reports.map((r) => r.map((l) => l.name))).toEqual(Array(3).fill(['Base-0', 'Base-0.1', 'pool']));
    await readLvs('HostVG');
    expect(calls()).toBe(2);
  });
});
