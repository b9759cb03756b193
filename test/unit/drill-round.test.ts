// The class drill round (issue 28), the pure parts: the model folds the instructor's round and the
// learners' `drilled` reports into who fixed which drill and how long it took, and the grading
// export; the learner's inbox takes the round from the network only when it is well formed, and
// offers it once per command line until `drill --class` takes it; the reporter tells the drill.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyEvent, classView, emptyModel, inboxOf, type Pack } from '../../src/classroom/model.ts';
import type { ClassEvent, DrillFacts, Report } from '../../src/classroom/contract.ts';
import { gradesCsv, gradesOf } from '../../src/classroom/export.ts';
import { asInbox, inboxLines, inboxPath, newMessages, openRound, saveInbox, takeRound } from '../../src/classroom/inbox.ts';
import { reportOf } from '../../src/classroom/reporter.ts';
import { decodeClassView } from '../../src/cli/commands/classroom/class-view.ts';
import { statusText } from '../../src/cli/commands/classroom/instructor.ts';

const pack: Pack = { steps: [{ id: 'a/one', title: 'One' }, { id: 'a/two', title: 'Two' }], chapters: new Map([['a', ['a/one', 'a/two']]]) };
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
let id = 0;
const ids: Record<string, number> = { ada: 1, bob: 2 };
const act = (s: number): ClassEvent => ({ id: ++id, type: 'act', learnerId: null, learner: null, receivedAt: at(s), act: { act: 'drill', chapter: 'a', drills: 2, seed: 7 } });
function drilled(learner: string, s: number, step: string, drill: DrillFacts, attempts = 0, hints = 0): ClassEvent {
  const report: Report = { id: `u${++id}`, kind: 'drilled', step, command: '', next: null, outcome: null, rows: [], attempts, hints, at: at(s), drill };
  return { id, type: 'report', learnerId: ids[learner] ?? 0, learner, receivedAt: at(s), report };
}

describe('the class drill round in the model', () => {
  const m = emptyModel(pack);
  const round = act(0);
  const r = round.id;
  for (const e of [
    round,
    drilled('ada', 10, 'a/one', { mutant: 'gone', state: 'started', ms: 0, round: r }),
    drilled('bob', 12, 'a/one', { mutant: 'gone', state: 'started', ms: 0, round: r }),
    drilled('ada', 52, 'a/one', { mutant: 'gone', state: 'fixed', ms: 42_000, round: r }, 1, 2),
    drilled('ada', 53, 'a/two', { mutant: 'typo', state: 'started', ms: 0, round: r }),
    drilled('bob', 90, 'a/one', { mutant: 'gone', state: 'gave-up', ms: 78_000, round: r }, 3, 3),
    // cy fixed both drills of the round; only she counts as having fixed every drill
    drilled('cy', 20, 'a/one', { mutant: 'gone', state: 'fixed', ms: 8_000, round: r }),
    drilled('cy', 40, 'a/two', { mutant: 'typo', state: 'fixed', ms: 9_000, round: r }),
    // a drill of bob's own: in his grades, not in the room's round
    drilled('bob', 95, 'a/two', { mutant: 'typo', state: 'fixed', ms: 5_000, round: null }),
  ])
    applyEvent(m, e);
  const v = classView(m, { idleAfterMs: 300_000, stuckAfterMs: 600_000, stuckAttempts: 3 }, T0 + 100_000);

  it('shows who fixed which drill of the round, and how long it took', () => {
    expect(v.drillRound).toEqual({
      id: r,
      chapter: 'a',
      drills: 2,
      seed: 7,
      since: at(0),
      learners: [
        { name: 'ada', drills: [{ step: 'a/one', mutant: 'gone', state: 'fixed', seconds: 42, attempts: 1, hints: 2, startedAt: at(10) }, { step: 'a/two', mutant: 'typo', state: 'on', seconds: null, attempts: 0, hints: 0, startedAt: at(53) }] },
        { name: 'bob', drills: [{ step: 'a/one', mutant: 'gone', state: 'gave-up', seconds: 78, attempts: 3, hints: 3, startedAt: at(12) }] },
        {
          name: 'cy',
          drills: [
            { step: 'a/one', mutant: 'gone', state: 'fixed', seconds: 8, attempts: 0, hints: 0, startedAt: at(12) },
            { step: 'a/two', mutant: 'typo', state: 'fixed', seconds: 9, attempts: 0, hints: 0, startedAt: at(31) },
          ],
        },
      ],
      fixedAll: 1,
    });
  });

  it("shows the round in the instructor's terminal as the server sent it, and refuses a malformed one", () => {
    // what GET /api/class sends: the view with the class's name and join code
    const sent = { ...v, class: { name: 'c', joinCode: 'J' } };
    const text = statusText(decodeClassView(JSON.stringify(sent), 'http://x'), T0 + 100_000);
    expect(text).toContain('Break-it round on a (2 drill(s)), started 2 min ago: 3 learner(s) on it, 1 fixed every drill.');
    expect(text).toContain('  ada: a/one (gone) fixed in 42s; a/two (typo) on it');
    expect(text).toContain('  bob: a/one (gone) gave up in 1m 18s');
    // every string came from the network
    const evil = { ...sent, drillRound: { ...v.drillRound, chapter: 'a\u001b[2J' } };
    expect(statusText(decodeClassView(JSON.stringify(evil), 'http://x'), T0)).not.toContain('\u001b');
    const bad = { ...sent, drillRound: { ...v.drillRound, learners: [{ name: 'ada', drills: [{ step: 1 }] }] } };
    expect(() => decodeClassView(JSON.stringify(bad), 'http://x')).toThrow(/drillRound\.learners\[0\]\.drills\[0\]\.step is not a string/);
    // an older server sends no round: nothing about it is printed
    const { drillRound: _, ...old } = sent;
    expect(statusText(decodeClassView(JSON.stringify(old), 'http://x'), T0)).not.toContain('Break-it');
  });

  it('never moves a learner in the chapter', () => {
    expect(v.learners.map((l) => [l.name, l.current, l.done])).toEqual([
      ['ada', 'a/one', []],
      ['bob', 'a/one', []],
      ['cy', 'a/one', []],
    ]);
  });

  it('gives each learner the round in their inbox', () => {
    expect(inboxOf(m, 1).drill).toEqual({ id: r, chapter: 'a', drills: 2, seed: 7 });
    expect(inboxOf(emptyModel(pack), 1).drill).toBeNull();
  });

  it('has a grading row per learner × drill, the own ones too', () => {
    const g = gradesOf(m, 'c', new Map());
    expect(g.learners.map((l) => [l.summary.learner, l.drills.length])).toEqual([
      ['ada', 2],
      ['bob', 2],
      ['cy', 2],
    ]);
    const rows = gradesCsv(g).split('\r\n').filter((x) => /^\w+,drill,/.test(x));
    expect(rows).toEqual([
      `ada,drill,a/one,,${at(10)},,1,2,,,,,,,,gone,fixed,42,${r}`,
      `ada,drill,a/two,,${at(53)},,0,0,,,,,,,,typo,on,,${r}`,
      `bob,drill,a/one,,${at(12)},,3,3,,,,,,,,gone,gave-up,78,${r}`,
      `bob,drill,a/two,,${at(90)},,0,0,,,,,,,,typo,fixed,5,`,
      `cy,drill,a/one,,${at(12)},,0,0,,,,,,,,gone,fixed,8,${r}`,
      `cy,drill,a/two,,${at(31)},,0,0,,,,,,,,typo,fixed,9,${r}`,
    ]);
  });
});

describe("the learner's side of the round", () => {
  const home = mkdtempSync(join(tmpdir(), 'ws-unit-round-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const base = { messages: [], hold: null, hand: false };

  it.each([
    [{ id: 0, chapter: 'a', drills: 2, seed: 1 }],
    [{ id: 3, chapter: '../etc', drills: 2, seed: 1 }],
    [{ id: 3, chapter: 'a\u001b[2J', drills: 2, seed: 1 }],
    [{ id: 3, chapter: 'a', drills: 9, seed: 1 }],
    [{ id: 3, chapter: 'a', drills: 2, seed: -1 }],
    [{ id: 3, chapter: 'a', drills: 2 }],
    ['a'],
  ])('refuses an inbox whose round is malformed: %j', (drill) => {
    expect(asInbox({ ...base, drill })).toBeUndefined();
  });

  it('takes a well-formed round, and none from a server before rounds', () => {
    expect(asInbox({ ...base, drill: { id: 3, chapter: 'a', drills: 2, seed: 1 } })?.drill).toEqual({ id: 3, chapter: 'a', drills: 2, seed: 1 });
    expect(asInbox(base)?.drill).toBeNull();
  });

  it('offers the round on the next command once, in status until it is taken, then never again', () => {
    writeFileSync(inboxPath(home), '{}');
    saveInbox(home, { ...base, drill: { id: 3, chapter: 'a', drills: 2, seed: 1 } });
    const line = 'the instructor started a break-it round on a (2 drill(s)): `workshop drill --class` starts it';
    expect(newMessages(home)).toEqual([line]);
    expect(newMessages(home)).toEqual([]);
    expect(inboxLines(home)).toContain(line);
    expect(openRound(home)?.id).toBe(3);
    takeRound(home, 3);
    expect(openRound(home)).toBeUndefined();
    expect(inboxLines(home)).not.toContain(line);
    // the sender's next fetch keeps what was taken
    saveInbox(home, { ...base, drill: { id: 3, chapter: 'a', drills: 2, seed: 1 } });
    expect(openRound(home)).toBeUndefined();
    saveInbox(home, { ...base, drill: { id: 9, chapter: 'a', drills: 1, seed: 2 } });
    expect(newMessages(home)).toEqual(['the instructor started a break-it round on a (1 drill(s)): `workshop drill --class` starts it']);
  });

  it('reports a drill without what the learner typed: the near-miss, its state, the time, the round', () => {
    const r = reportOf({ type: 'drilled', at: at(0), step: 'a/one', mutant: 'gone', state: 'fixed', ms: 4200.4, attempts: 1, hints: 2, round: 3 }, 'id');
    expect(r).toEqual({ id: 'id', kind: 'drilled', step: 'a/one', command: '', next: null, outcome: 'pass', rows: [], attempts: 1, hints: 2, at: at(0), drill: { mutant: 'gone', state: 'fixed', ms: 4200, round: 3 } });
  });
});
