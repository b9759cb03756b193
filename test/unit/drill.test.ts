// Drills (issue 28): which mutants become drills, how one is picked, its hints, and its record.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/check.ts';
import { catalogue, drillHints, leftOutBecause, namingRow, pick, roundSize } from '../../src/engine/drill.ts';
import { activeDrill, changeBook, drillsPath, emptyBook, finished, readBook, type ActiveDrill } from '../../src/engine/drill-record.ts';
import { WorkshopError } from '../../src/errors.ts';
import type { MutantData } from '../../src/lessons/host-protocol.ts';

const m = (over: Partial<MutantData> = {}): MutantData => ({ diagnosis: /x/, revert: false, recovery: 'solve', ...over });
const bare: MutantData = { revert: false, recovery: 'solve' };

describe('which mutants become drills', () => {
  // The same rule the self-test applies to its proven list (mutants.drills in `workshop test --json`;
  // test/integration/diagnosis.test.ts and selftest.test.ts hold the two lists equal).
  it.each([
    ['a diagnosed mutant that solve repairs', m(), undefined],
    ['a mutant without a diagnosis', bare, /declares no diagnosis/],
    ['a mutant whose way out is goto --restore', m({ recovery: 'restore' }), /goto --restore/],
    ['a mutant with a revert of its own', m({ revert: true }), /revert of its own/],
  ])('%s', (_what, mutant, why) => {
    expect(leftOutBecause(mutant)).toEqual(why === undefined ? undefined : expect.stringMatching(why));
  });

  it('lists the drills step by step, and the mutants left out with why', () => {
    const c = catalogue('overlayfs', {
      mount: { mutants: { readOnly: m(), bare: bare } },
      whiteout: { mutants: { deletedFromTheImage: m({ recovery: 'restore' }), noWhiteout: m() } },
    });
    expect(c.drills).toEqual([
      { chapter: 'overlayfs', step: 'mount', mutant: 'readOnly' },
      { chapter: 'overlayfs', step: 'whiteout', mutant: 'noWhiteout' },
    ]);
    expect(c.leftOut.map((l) => `${l.step}/${l.mutant}`)).toEqual(['mount/bare', 'whiteout/deletedFromTheImage']);
  });
});

describe('picking a drill', () => {
  const drills = Array.from({ length: 9 }, (_, i) => ({ chapter: 'chroot', step: `s${i}`, mutant: `m${i}` }));
  it('picks the same drill for the same seed', () => {
    expect(pick(drills, 42)).toEqual(pick(drills, 42));
    expect(pick(drills, 42)).toHaveLength(1);
  });
  it('reaches every drill over many seeds', () => {
    const seen = new Set(Array.from({ length: 200 }, (_, s) => pick(drills, s)[0]?.step));
    expect(seen.size).toBe(9);
  });
  it('makes a round of up to 5 different drills, and all of them where there are fewer', () => {
    expect(roundSize(9)).toBe(5);
    expect(roundSize(2)).toBe(2);
    const round = pick(drills, 7, roundSize(drills.length));
    expect(new Set(round.map((d) => d.step)).size).toBe(5);
    expect(pick(drills.slice(0, 2), 7, 5)).toHaveLength(2);
  });
});

describe('the hints of a drill, from its diagnosis', () => {
  const rows: CheckResult[] = [
    { status: 'pass', check: 'rootfs/bin/busybox is an executable file', actual: 'yes' },
    { status: 'fail', check: 'rootfs/bin/busybox is executable', expected: 'an execute bit (x)', actual: 'mode 0644', hint: 'chmod +x rootfs/bin/busybox' },
    { status: 'fail', check: 'busybox is static', expected: 'statically linked', actual: 'dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2' },
  ];
  it('finds the row where the diagnosis begins, not only the first failing one', () => {
    expect(namingRow(rows, /dynamically linked, interpreter/)?.check).toBe('busybox is static');
    expect(namingRow(rows, /an execute bit \(x\)[\s\S]*chmod \+x/)?.check).toBe('rootfs/bin/busybox is executable');
    // a diagnosis that names nothing (it cannot be proven so): the first failing row
    expect(namingRow(rows, /nowhere/)?.check).toBe('rootfs/bin/busybox is executable');
  });
  it('gives the area, then the check, then the fix', () => {
    const hints = drillHints('Copy busybox', ['Debian installed a static busybox.', 'cp /bin/busybox rootfs/bin/busybox'], rows[1]);
    expect(hints).toEqual([
      'Area: what the step "Copy busybox" built. Debian installed a static busybox.',
      'Check: "rootfs/bin/busybox is executable" fails. It expected an execute bit (x), and found mode 0644.',
      'Fix: chmod +x rootfs/bin/busybox cp /bin/busybox rootfs/bin/busybox',
    ]);
  });
});

describe('drills.json', () => {
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'ws-unit-drills-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const active: ActiveDrill = { chapter: 'chroot', step: 'busybox', mutant: 'notExecutable', seed: 3, startedAt: 1_000, attempts: 0, hints: ['a', 'b', 'c'], hintsShown: 0, rows: '✘ x', diagnosis: '/x/' };

  it('is empty before the first drill, and no drill is on', () => {
    expect(readBook(home)).toEqual(emptyBook());
    expect(activeDrill(home)).toBeUndefined();
  });
  it('records a drill atomically in its own file, never in state.json', async () => {
    await changeBook(home, 'drill', (b) => {
      b.active = active;
    });
    expect(activeDrill(home)).toEqual(active);
    expect(readdirSync(home).filter((f) => !f.startsWith('lock'))).toEqual(['drills.json']);
    expect(JSON.parse(readFileSync(drillsPath(home), 'utf8'))).toMatchObject({ formatVersion: 1, active: { mutant: 'notExecutable' } });
  });
  it('ends a drill with its time, failed attempts and hints', () => {
    expect(finished({ ...active, attempts: 2, hintsShown: 1 }, 'fixed', 66_000)).toEqual({ chapter: 'chroot', step: 'busybox', mutant: 'notExecutable', seed: 3, startedAt: 1_000, ms: 65_000, attempts: 2, hints: 1, outcome: 'fixed' });
  });
  it('refuses a file that is not a drill record, and says how to get past it', () => {
    writeFileSync(drillsPath(home), '{"formatVersion": 9}');
    expect(() => readBook(home)).toThrow(WorkshopError);
    expect(() => readBook(home)).toThrow(/not a drill record/);
  });
});
