// The dashboard's model: a pure fold of the class's events. Table-driven, like the spec reads.
import { describe, expect, it } from 'vitest';
import { applyEvent, classView, emptyModel, type Pack } from '../../src/classroom/model.ts';
import type { ClassEvent, Report } from '../../src/classroom/store.ts';
import { classCsv, csvField } from '../../src/classroom/export.ts';

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
function ev(learner: string, s: number, r: Partial<Report> | 'joined'): ClassEvent {
  id++;
  if (r === 'joined') return { id, type: 'joined', learner, receivedAt: at(s) };
  const report: Report = { id: `u${id}`, kind: 'attempted', step: 'a/one', command: 'next', next: null, outcome: 'fail', rows: [], attempts: 1, hints: 0, at: at(s), ...r };
  return { id, type: 'report', learner, receivedAt: at(s), report };
}
const thresholds = { stuckAfterMs: 600_000, stuckAttempts: 3 };
function view(events: ClassEvent[], now = 60, t = thresholds) {
  const m = emptyModel(pack);
  for (const e of events) applyEvent(m, e);
  return classView(m, t, T0 + now * 1000);
}

describe('the class model', () => {
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

  it('after the last step the learner is finished', () => {
    const v = view([ev('ada', 0, { kind: 'passed', step: 'b/three', outcome: null, next: null })]);
    expect(v.learners[0]).toMatchObject({ current: null, stuck: false });
  });

  it.each([
    ['3 failed attempts', [{ attempts: 3 }], 60, '3 failed attempts'],
    ['2 failed attempts, 1 minute', [{ attempts: 2 }], 60, null],
    ['2 failed attempts, 11 minutes', [{ attempts: 2 }], 660, '11 min on this step'],
    ['3 attempts, but the last one passed the checks', [{ attempts: 3, outcome: 'pass' as const, rows: [pass('p')] }], 60, null],
  ])('stuck: %s', (_name, reports, now, reason) => {
    const v = view([ev('ada', 0, 'joined'), ...reports.map((r) => ev('ada', 0, r))], now);
    expect(v.learners[0]?.stuckReason).toBe(reason);
    expect(v.learners[0]?.stuck).toBe(reason !== null);
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
    expect(v.commonFailures[0]).toEqual({ step: 'a/one', check: 'veth on br0', expected: 'master br0', actual: 'no master', count: 3, learners: ['ada', 'bob', 'cy'] });
    expect(v.commonFailures.map((f) => f.count)).toEqual([3, 1, 1]);
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

describe('the CSV export', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['two\nlines', '"two\nlines"'],
  ])('%j is written as %s', (v, out) => expect(csvField(v)).toBe(out));

  it('one row per learner, a column per step', () => {
    const csv = classCsv(view([ev('ada', 0, { rows: [fail('c')] })]));
    const [head, ada] = csv.split('\r\n');
    expect(head).toBe('name,current,done,total,attempts,hints,hints_total,stuck,stuck_reason,minutes_on_step,last_seen,failing_checks,a/one,a/two,b/three');
    expect(ada).toBe(`ada,a/one,0,3,1,0,0,false,,1,${at(0)},c,failing,todo,todo`);
  });
});
