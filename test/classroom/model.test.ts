// The dashboard's model: a pure fold of the class's events. Table-driven, like the spec reads.
import { describe, expect, it } from 'vitest';
import { applyEvent, classView, emptyModel, type Pack } from '../../src/classroom/model.ts';
import type { ClassEvent, Report } from '../../src/classroom/store.ts';
import { classCsv } from '../../src/classroom/export.ts';
import { csvField, jsonSafe, visible } from '../../src/classroom/safe-text.ts';

const pack: Pack = {
  steps: [
    { id: 'a/one', title: 'One' },
    { id: 'a/two', title: 'Two' },
    { id: 'b/three', title: 'Three' },
  ],
  chapters: new Map([
    ['a', ['a/one', 'a/two']],
    ['b', ['b/three']],
  ]),
};
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const fail = (check: string, expected = 'x', actual = 'y') => ({ check, status: 'fail' as const, expected, actual, hint: '' });
const pass = (check: string) => ({ check, status: 'pass' as const, expected: '', actual: 'ok', hint: '' });

let id = 0;
/** Learner ids by name, as a store gives them; `ids.set(name, n)` gives a reused name a new id. */
const ids = new Map<string, number>();
const idOf = (learner: string): number => ids.get(learner) ?? (ids.set(learner, ids.size + 1), ids.size);
function ev(learner: string, s: number, r: Partial<Report> | 'joined' | 'removed' | 'freed'): ClassEvent {
  id++;
  const who = { learnerId: idOf(learner), learner, receivedAt: at(s) };
  if (r === 'joined') return { id, type: 'joined', how: 'new', ...who };
  if (r === 'removed' || r === 'freed') return { id, type: r, ...who };
  const report: Report = { id: `u${id}`, kind: 'attempted', step: 'a/one', command: 'next', next: null, outcome: 'fail', rows: [], attempts: 1, hints: 0, at: at(s), ...r };
  return { id, type: 'report', ...who, report };
}
const thresholds = { idleAfterMs: 300_000, stuckAfterMs: 600_000, stuckAttempts: 3 };
function view(events: ClassEvent[], now = 60, t = thresholds) {
  const m = emptyModel(pack);
  for (const e of events) applyEvent(m, e);
  return classView(m, t, T0 + now * 1000);
}

describe('the class model', () => {
  it('keys learners by id: a removed learner leaves, and someone new under the same name starts afresh', () => {
    const events = [ev('ada', 0, 'joined'), ev('ada', 1, { kind: 'passed', step: 'a/one', next: 'a/two' }), ev('bob', 2, 'joined'), ev('ada', 3, 'removed')];
    expect(view(events).learners.map((l) => l.name)).toEqual(['bob']);
    ids.set('ada', 99); // the store gives the new ada another id
    const again = view([...events, ev('ada', 4, 'joined')]).learners.find((l) => l.name === 'ada');
    expect(again).toMatchObject({ id: 99, done: [], current: 'a/one' });
    // a report of the removed learner still in flight does not bring them back
    ids.set('ada', 1);
    expect(view([...events, ev('ada', 5, { kind: 'hinted', hints: 1 })]).learners.map((l) => l.name)).toEqual(['bob']);
  });

  it('marks a freed name, and a join under it takes the learner over with their progress', () => {
    ids.set('cy', 50);
    const events = [ev('cy', 0, 'joined'), ev('cy', 1, { kind: 'passed', step: 'a/one', next: 'a/two' }), ev('cy', 2, 'freed')];
    expect(view(events).learners[0]).toMatchObject({ id: 50, access: 'freed', done: ['a/one'] });
    const claimed: ClassEvent = { id: ++id, type: 'joined', how: 'claimed', learnerId: 50, learner: 'cy', receivedAt: at(3) };
    expect(view([...events, claimed]).learners[0]).toMatchObject({ id: 50, access: 'active', done: ['a/one'], current: 'a/two' });
  });

  it('turns alerts into lines for the instructor, the newest kept', () => {
    const alert = (n: number): ClassEvent => ({ id: ++id, type: 'alert', learnerId: n % 2 ? 7 : null, learner: n % 2 ? 'eve' : null, receivedAt: at(n), alert: n % 2 ? { limit: 'learner storage', bytes: 8 * 2 ** 20 } : { limit: 'joins', per: 'address', refused: n } });
    const v = view(Array.from({ length: 25 }, (_, n) => alert(n)));
    expect(v.alerts).toHaveLength(20);
    expect(v.alerts.at(-1)).toMatchObject({ limit: 'joins', message: expect.stringMatching(/too fast from one address: 24 refused/) });
    expect(v.alerts.at(-2)?.message).toMatch(/^eve used up the storage of a learner \(8 MiB\)/);
  });

  it('a joined learner sits on the first step with nothing done', () => {
    const v = view([ev('ada', 0, 'joined')]);
    expect(v.learners[0]).toMatchObject({ name: 'ada', current: 'a/one', done: [], cells: ['current', 'todo', 'todo'], stuck: false, failing: [], table: null });
  });

  it('a failing next marks the step failing, keeps the whole table and counts attempts', () => {
    const rows = [pass('p'), fail('veth on br0', 'master br0', 'no master')];
    const v = view([ev('ada', 0, 'joined'), ev('ada', 10, { rows, attempts: 2, hints: 1 })]);
    expect(v.learners[0]).toMatchObject({ cells: ['failing', 'todo', 'todo'], attempts: 2, hints: 1, failing: [{ check: 'veth on br0', expected: 'master br0', actual: 'no master', hint: '' }], table: { step: 'a/one', rows } });
    expect(v.learners[0]?.lastSeen).toBe(at(10));
  });

  it('passed moves the learner to its next step; an earlier step never passed is skipped', () => {
    const v = view([ev('ada', 0, { kind: 'passed', step: 'a/two', outcome: null, next: 'b/three' })]);
    expect(v.learners[0]).toMatchObject({ current: 'b/three', done: ['a/two'], cells: ['skipped', 'done', 'current'], failing: [] });
    expect(v.passed).toEqual([0, 1, 0]);
  });

  it('after the last step, with every step done, the learner is finished, never stuck', () => {
    const passed = (step: string, next: string | null) => ({ kind: 'passed' as const, step, outcome: null, next });
    const v = view([ev('ada', 0, passed('a/one', 'a/two')), ev('ada', 1, passed('a/two', 'b/three')), ev('ada', 2, passed('b/three', null))], 3600);
    expect(v.learners[0]).toMatchObject({ current: null, state: 'finished', stuck: false, stuckFor: 0 });
    // the last step passed after skipping one: not finished
    expect(view([ev('bob', 0, passed('b/three', null))]).learners[0]).toMatchObject({ current: null, state: 'active' });
  });

  // stuck: on one failing step for --stuck-after (10 min here) *and* with --stuck-attempts (3)
  it.each([
    ['3 failed attempts in 1 minute', 0, 3, 60, 'active', null],
    ['2 failed attempts in 11 minutes', 630, 2, 660, 'active', null],
    ['3 failed attempts in 11 minutes', 630, 3, 660, 'stuck', '11 min on this step, 3 failed attempts'],
    ['3 failed attempts in 11 minutes, then no command for 6 minutes', 300, 3, 660, 'idle', null],
  ])('%s: %s', (_name, lastAt, attempts, now, state, reason) => {
    const v = view([ev('ada', 0, 'joined'), ev('ada', 0, { attempts: 1, rows: [fail('c')] }), ev('ada', lastAt, { attempts, rows: [fail('c')] })], now);
    expect(v.learners[0]).toMatchObject({ state, stuckReason: reason, stuck: state === 'stuck', stuckFor: state === 'stuck' ? now : 0 });
  });

  it('3 attempts, but the last one passed the checks: not stuck', () => {
    const v = view([ev('ada', 0, { attempts: 1, rows: [fail('c')] }), ev('ada', 630, { attempts: 3, outcome: 'pass', rows: [pass('p')] })], 660);
    expect(v.learners[0]?.state).toBe('active');
  });

  it('`classroom leave` makes a learner left; a join or a report brings them back', () => {
    const left = [ev('ada', 0, 'joined'), ev('ada', 1, { attempts: 5, rows: [fail('c')] }), ev('ada', 2, { kind: 'left', step: '', outcome: null })];
    expect(view(left, 3600).learners[0]).toMatchObject({ state: 'left', stuck: false });
    // back on the step they were failing an hour ago, with 5 attempts
    expect(view([...left, ev('ada', 3595, 'joined')], 3600).learners[0]?.state).toBe('stuck');
    expect(view([...left, ev('ada', 3595, { attempts: 6, rows: [fail('c')] })], 3600).learners[0]?.state).toBe('stuck');
  });

  it('ranks Needs help by time stuck, then attempts; not by who came last', () => {
    const stuckAt = (who: string, since: number, attempts: number) => [ev(who, since, { attempts: 1, rows: [fail('c')] }), ev(who, 1190, { attempts, rows: [fail('c')] })];
    const v = view([...stuckAt('ada', 500, 3), ...stuckAt('bob', 100, 3), ...stuckAt('cy', 100, 6), ...stuckAt('dee', 1100, 9)], 1200);
    const names = v.needsHelp.map((id) => v.learners.find((l) => l.id === id)?.name);
    expect(names).toEqual(['cy', 'bob', 'ada']); // dee: 9 attempts, but not 10 minutes on the step
  });

  it('`check` of another step looks without moving the learner', () => {
    const v = view([ev('ada', 0, 'joined'), ev('ada', 1, { step: 'b/three', command: 'check', rows: [fail('c')] })]);
    expect(v.learners[0]?.current).toBe('a/one');
  });

  it('reset of a chapter undoes its steps and goes back to its first step', () => {
    const v = view([ev('ada', 0, { kind: 'passed', step: 'a/one', outcome: null, next: 'a/two' }), ev('ada', 1, { kind: 'reset', step: 'a', outcome: null })]);
    expect(v.learners[0]).toMatchObject({ current: 'a/one', done: [] });
  });

  it('groups identical failing checks across the class, largest first, with names', () => {
    const v = view([
      ev('ada', 0, { rows: [fail('veth on br0', 'master br0', 'no master'), fail('ip on br0')] }),
      ev('bob', 0, { rows: [fail('veth on br0', 'master br0', 'master br1')] }),
      ev('cy', 0, { rows: [fail('veth on br0', 'master br0', 'no master')] }),
      ev('dee', 0, { rows: [fail('veth on br0', 'other expected', 'no master')] }),
    ]);
    expect(v.commonFailures[0]).toMatchObject({ step: 'a/one', check: 'veth on br0', expected: 'master br0', actual: 'no master', count: 3, learners: ['ada', 'bob', 'cy'] });
    expect(v.commonFailures[0]?.members.map((m) => [m.name, m.actual])).toEqual([
      ['ada', 'no master'],
      ['bob', 'master br1'],
      ['cy', 'no master'],
    ]);
    expect(v.commonFailures.map((f) => f.count)).toEqual([3, 1, 1]);
  });

  it('one group for one problem: nonces, paths and timestamps in the check or the expected value never split it', () => {
    const nonce = ['8f3a2b1c9d0e', '0b1c2d3e4f5a', 'a1b2c3d4e5f6'];
    const v = view(
      ['ada', 'bob', 'cy'].map((who, i) =>
        ev(who, 0, { rows: [fail(`rootfs/HELLO.txt contains "${nonce[i]}"`, `a file containing "${nonce[i]}" by 2026-12-0${i + 1}T10:0${i}:00Z in /tmp/ws-${who}-k2J9x${i}/out`, `/home/${who}/rootfs/HELLO.txt: nothing there`)] }),
      ),
    );
    expect(v.commonFailures).toHaveLength(1);
    expect(v.commonFailures[0]).toMatchObject({ count: 3, check: 'rootfs/HELLO.txt contains "8f3a2b1c9d0e"' });
    expect(v.commonFailures[0]?.members.map((m) => m.actual)).toEqual(['/home/ada/rootfs/HELLO.txt: nothing there', '/home/bob/rootfs/HELLO.txt: nothing there', '/home/cy/rootfs/HELLO.txt: nothing there']);
    // a different expected value is a different problem
    expect(view([ev('ada', 0, { rows: [fail('size', 'master br0')] }), ev('bob', 0, { rows: [fail('size', 'master br1')] })]).commonFailures).toHaveLength(2);
  });

  it('sorts common failures by learner-minutes on the step, not by head count', () => {
    const v = view([
      // three who tried once a minute ago
      ...['a1', 'a2', 'a3'].map((who) => ev(who, 540, { rows: [fail('fresh')] })),
      // two stuck for 9 minutes
      ...['b1', 'b2'].map((who) => ev(who, 0, { rows: [fail('old')] })),
    ], 600);
    expect(v.commonFailures.map((f) => [f.check, f.count, f.learnerMinutes])).toEqual([
      ['old', 2, 20],
      ['fresh', 3, 3],
    ]);
  });

  it('a step that passes leaves the common failures', () => {
    const v = view([ev('ada', 0, { rows: [fail('c')] }), ev('ada', 1, { kind: 'passed', outcome: null, next: 'a/two' })]);
    expect(v.commonFailures).toEqual([]);
  });

  it('ignores an event it has already applied (a replay overlapping the live stream)', () => {
    const e = ev('ada', 0, { rows: [fail('c')], attempts: 1 });
    const m = emptyModel(pack);
    applyEvent(m, e);
    applyEvent(m, { ...e, report: { ...(e.type === 'report' ? e.report : ({} as Report)), attempts: 7 } } as ClassEvent);
    expect(classView(m, thresholds, T0).learners[0]?.attempts).toBe(1);
  });

  it("never dates last seen after the server heard it (a learner's clock ahead)", () => {
    const e = ev('ada', 0, { at: at(5000) });
    expect(view([e]).learners[0]?.lastSeen).toBe(at(0));
  });
});

describe('text from the network, made safe', () => {
  it.each([
    ['plain text, ✔ and é', 'plain text, ✔ and é'],
    ['\u001b]0;PWNED\u0007\u001b[2J', '\\e]0;PWNED\\x07\\e[2J'],
    ['line\r\nnext\ttab', 'line\\r\\nnext\\ttab'],
    ['c1 \u009b31m, del \u007f, nul \u0000', 'c1 \\x9b31m, del \\x7f, nul \\x00'],
    ['bidi \u202eevil\u202c, zero width \u200b, bom \ufeff', 'bidi \\u{202e}evil\\u{202c}, zero width \\u{200b}, bom \\u{feff}'],
  ])('visible(%j) is %j', (v, out) => expect(visible(v)).toBe(out));

  it('keeps JSON valid and its meaning, with every control character as \\u escape', () => {
    const v = { name: 'a\u001b[2J\u009b\u202e' };
    const text = jsonSafe(JSON.stringify(v));
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(JSON.parse(text)).toEqual(v);
  });
});

describe('the CSV export', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['two\nlines', 'two\\nlines'],
    ['\t=1+1', "'\\t=1+1"],
    ['＝1+1', "'＝1+1"],
    ['\u001b]0;PWNED\u0007\u001b[2J', '\\e]0;PWNED\\x07\\e[2J'],
    ['a\u009bb\u202ec', 'a\\x9bb\\u{202e}c'],
  ])('%j is written as %s', (v, out) => expect(csvField(v)).toBe(out));

  it('keeps no control character in any cell, and no formula at the start of any', () => {
    const hostile = '\u001b]0;PWNED\u0007\u001b[2J';
    const csv = classCsv(view([ev('ada', 0, { rows: [fail(`=cmd|' /C calc'!A0${hostile}`)] })]));
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(csv).toContain("'=cmd|' /C calc'!A0\\e]0;PWNED\\x07\\e[2J");
  });

  it('counts per question who answered and who was right on the first try, in the view and the CSV (issue 28)', () => {
    const answered = (question: string, outcome: 'pass' | 'fail', attempts: number): Partial<Report> => ({ kind: 'answered', step: 'a/one', command: '', outcome, attempts, rows: [{ ...pass(question), status: outcome }] });
    const v = view([
      ev('ada', 1, answered('whiteout', 'pass', 1)),
      ev('bob', 2, answered('whiteout', 'fail', 1)),
      ev('bob', 3, answered('whiteout', 'pass', 2)),
      ev('cy', 4, answered('upper', 'fail', 1)),
    ]);
    expect(v.questions).toEqual([
      { step: 'a/one', question: 'upper', answered: 1, firstTry: 0, learners: [{ name: 'cy', firstTry: false }] },
      { step: 'a/one', question: 'whiteout', answered: 2, firstTry: 1, learners: [{ name: 'ada', firstTry: true }, { name: 'bob', firstTry: false }] },
    ]);
    const [head, ada, bob, cy] = classCsv(v).split('\r\n');
    expect(head).toMatch(/,question a\/one#upper,question a\/one#whiteout$/);
    expect([ada, bob, cy].map((r) => r?.split(',').slice(-2).join(','))).toEqual([',first try', ',later', 'later,']);
  });
  it('one row per learner, a column per step', () => {
    const csv = classCsv(view([ev('ada', 0, { rows: [fail('c')] })]));
    const [head, ada] = csv.split('\r\n');
    expect(head).toBe('name,current,done,total,attempts,hints,hints_total,stuck,stuck_reason,minutes_on_step,last_seen,failing_checks,solved,a/one,a/two,b/three');
    expect(ada).toBe(`ada,a/one,0,3,1,0,0,false,,1,${at(0)},c,0,failing,todo,todo`);
  });

  it('tells a step passed with `workshop solve` from the learner\'s own work, in the cells and the CSV', () => {
    const passed = (step: string, next: string, command: string) => ({ kind: 'passed' as const, step, next, command, outcome: null });
    const v = view([ev('ada', 0, passed('a/one', 'a/two', 'solve')), ev('ada', 1, passed('a/two', 'b/three', 'learner'))]);
    expect(v.learners[0]).toMatchObject({ done: ['a/one', 'a/two'], solved: ['a/one'], cells: ['solved', 'done', 'current'] });
    expect(v.passed).toEqual([1, 1, 0]);
    expect(classCsv(v).split('\r\n')[1]).toMatch(/,1,solved,done,current$/);
    // solved again by the learner's own hand after a reset: their own work
    const again = view([ev('bob', 0, passed('a/one', 'a/two', 'solve')), ev('bob', 1, { kind: 'reset', step: 'a', outcome: null }), ev('bob', 2, passed('a/one', 'a/two', 'learner'))]);
    expect(again.learners[0]).toMatchObject({ solved: [], cells: ['done', 'current', 'todo'] });
  });
});

describe("hosted labs' current step", () => {
  it('is where the last report before a left one put the learner (leave names no step)', async () => {
    const { currentStep } = await import('../../src/classroom/labs-plugin.ts');
    const r = (over: Partial<Report>): Report => ({ id: 'u', kind: 'attempted', step: 'a/two', command: 'next', next: null, outcome: 'fail', rows: [], attempts: 1, hints: 0, at: at(0), ...over });
    expect(currentStep(pack, [r({}), r({ kind: 'left', step: '' })])).toBe('a/two');
    expect(currentStep(pack, [r({ kind: 'left', step: '' })])).toBe('a/one');
  });
});
