// The grading export (issue 22), through the HTTP API on each store: a row per learner and step
// with `by` = self or solve, first seen, passed at, attempts and hints, a summary row per learner,
// and cells a spreadsheet cannot run as a formula.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ClassResponse, Grades } from '../../src/classroom/contract.ts';
import { getJson, inProcess, joinAs, PACK, post, report, until, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const [S1 = 'preflight/vm', S2 = 'preflight/root', S3 = 'preflight/tools'] = PACK.steps.map((s) => s.id);
const ago = (s: number): string => new Date(Date.now() - s * 1000).toISOString();

describe.each(STORES)('the grading export on $name', (factory) => {
  let t: TestServer;
  // the store's databases (for PostgreSQL, its throwaway server) go with the suite
  afterAll(() => factory.cleanup());
  afterEach(async () => {
    await t?.close();
  });

  it('tells the steps a learner passed by themselves from those passed with solve, with times, attempts and hints', async () => {
    t = await inProcess(factory);
    const ada = await joinAs(t.origin, t.joinCode, '-ada');
    const stored = async (over: Parameters<typeof report>[0]): Promise<number> => {
      const r = await post(t.origin, ada, report(over));
      expect(r.status, r.body.error).toBe(201);
      return r.body.eventId ?? 0;
    };
    await stored({ step: S1, attempts: 1, at: ago(300) });
    await stored({ kind: 'hinted', step: S1, command: '', outcome: null, rows: [], hints: 1, attempts: 1, at: ago(250) });
    await stored({ kind: 'passed', step: S1, command: 'learner', next: S2, outcome: null, rows: [], attempts: 2, hints: 1, at: ago(200) });
    await stored({ step: S2, attempts: 3, at: ago(100) });
    // a question of S1 wrong on the first try, then right: graded as not right on the first try
    const answered = (outcome: 'pass' | 'fail', attempts: number) => stored({ kind: 'answered', step: S1, command: '', outcome, attempts, rows: [{ check: 'why-a-vm', status: outcome, expected: '', actual: '', hint: '' }], at: ago(190) });
    await answered('fail', 1);
    await answered('pass', 2);
    const last = await stored({ kind: 'passed', step: S2, command: 'solve', next: S3, outcome: null, rows: [], attempts: 3, hints: 0, at: ago(50) });
    await until('the model has the reports', async () => (await getJson<ClassResponse>(t.origin, '/api/class', t.token)).lastEventId >= last);

    const g = await getJson<Grades>(t.origin, '/api/grades.json', t.token);
    expect(g.steps).toEqual(PACK.steps.map((s) => s.id));
    const [l] = g.learners;
    expect(l?.summary).toMatchObject({ learner: '-ada', bySelf: 1, bySolve: 1, total: PACK.steps.length, attempts: 5, hints: 1, recording: null });
    expect(l?.answers).toEqual([{ step: S1, question: 'why-a-vm', firstTry: false }]);
    const row = (s: string) => l?.steps.find((r) => r.step === s);
    expect(row(S1)).toMatchObject({ by: 'self', attempts: 2, hints: 1 });
    expect(row(S2)).toMatchObject({ by: 'solve', attempts: 3, hints: 0 });
    expect(row(S3)).toMatchObject({ by: null, passedAt: null, attempts: 0 });
    // first seen before passed; times within the class's
    expect(Date.parse(row(S1)?.firstSeen ?? '')).toBeLessThan(Date.parse(row(S1)?.passedAt ?? ''));
    expect(Date.parse(row(S2)?.firstSeen ?? '')).toBeLessThanOrEqual(Date.parse(row(S2)?.passedAt ?? ''));
    expect(row(S3)?.firstSeen).not.toBeNull(); // the step solve moved the learner to

    const csv = await (await fetch(`${t.origin}/api/grades.csv`, { headers: { authorization: `Bearer ${t.token}` } })).text();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('learner,row,step,by,first_seen,passed_at,attempts,hints,state,by_self,by_solve,total,recording,question,first_try,drill,outcome,seconds,round');
    expect(lines).toHaveLength(1 + PACK.steps.length + 1 + 1);
    expect(lines.at(-2)).toBe(`'-ada,answer,${S1},,,,,,,,,,,why-a-vm,no,,,,`);
    // a name a spreadsheet would take for a formula (-ada) starts with a quote instead
    expect(lines[1]?.startsWith(`'-ada,step,${S1},self,`)).toBe(true);
    expect(lines[2]).toMatch(new RegExp(`,step,${S2},solve,[^,]+,[^,]+,3,0,,,,,,,,,,,$`));
    expect(lines.at(-1)).toBe(`'-ada,summary,,,,,5,1,active,1,1,${PACK.steps.length},,,,,,,`);
    // only the instructor
    expect((await fetch(`${t.origin}/api/grades.csv`)).status).toBe(401);
  });

  it('shows that a learner ran `workshop clean`, and whether it left anything; a cleaned report names no step', async () => {
    t = await inProcess(factory);
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    expect((await post(t.origin, ada, report({ kind: 'cleaned', step: S1, outcome: 'pass', rows: [] }))).status).toBe(422);
    const r = await post(t.origin, ada, report({ kind: 'cleaned', step: '', command: '', outcome: 'fail', rows: [], attempts: 0 }));
    expect(r.status, r.body.error).toBe(201);
    await until('the model has it', async () => (await getJson<ClassResponse>(t.origin, '/api/class', t.token)).lastEventId >= (r.body.eventId ?? 0));
    const l = (await getJson<ClassResponse>(t.origin, '/api/class', t.token)).learners[0];
    expect(l?.cleaned).toMatchObject({ clean: false });
    expect(l?.current).toBe(S1); // progress is kept
  });
});
