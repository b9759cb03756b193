// The class server's response schemas: fastify serializes an answer by its schema and drops any
// field the schema does not name, so a field added to contract.ts but not to schemas.ts would
// vanish from the API without an error. A class with every kind of field goes through each
// schema unchanged.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { ClassEvent, Report } from '../../src/classroom/contract.ts';
import { classJson } from '../../src/classroom/export.ts';
import { applyEvent, classView, emptyModel, type Pack } from '../../src/classroom/model.ts';
import { classResponses, exportResponses } from '../../src/classroom/schemas.ts';

const pack: Pack = {
  steps: [
    { id: 'a/one', title: 'One' },
    { id: 'a/two', title: 'Two' },
  ],
  chapters: new Map([['a', ['a/one', 'a/two']]]),
};
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function fullClass() {
  const who = (learnerId: number, s: number) => ({ learnerId, learner: learnerId === 1 ? 'ada' : 'bob', receivedAt: at(s) });
  const report = (s: number, r: Partial<Report>): Report => ({ id: `u${s}`, kind: 'attempted', step: 'a/one', command: 'next', next: null, outcome: 'fail', rows: [], attempts: 1, hints: 0, at: at(s), ...r });
  const rows: Report['rows'] = [
    { check: 'mounted', status: 'pass', expected: '', actual: 'ok', hint: '' },
    { check: 'vm.txt', status: 'fail', expected: 'kvm', actual: 'none', hint: 'tee vm.txt' },
  ];
  const events: ClassEvent[] = [
    { id: 1, type: 'joined', how: 'new', ...who(1, 0) },
    { id: 2, type: 'joined', how: 'new', ...who(2, 1) },
    { id: 3, type: 'report', ...who(1, 2), report: report(2, { rows, attempts: 4, hints: 1 }) },
    { id: 4, type: 'report', ...who(2, 3), report: report(3, { rows, attempts: 1 }) },
    { id: 5, type: 'freed', ...who(2, 4) },
    { id: 6, type: 'alert', learnerId: null, learner: null, receivedAt: at(5), alert: { limit: 'joins', per: 'address', refused: 3 } },
  ];
  const m = emptyModel(pack);
  for (const e of events) applyEvent(m, e);
  return classView(m, { idleAfterMs: 300_000, stuckAfterMs: 30_000, stuckAttempts: 3 }, T0 + 60_000);
}

async function through(schema: Record<string, unknown>, body: unknown): Promise<unknown> {
  const app = Fastify();
  app.get('/', { schema: { response: schema } }, async () => body);
  const res = await app.inject({ method: 'GET', url: '/' });
  await app.close();
  return JSON.parse(res.body);
}

describe('the class API response schemas', () => {
  const v = fullClass();

  it('the fixture has every kind of value: a failing table, a stuck learner, a freed name, an alert, a common failure', () => {
    expect(v.learners.map((l) => [l.name, l.state, l.access, l.table === null])).toEqual([
      ['ada', 'stuck', 'active', false],
      ['bob', 'active', 'freed', false],
    ]);
    expect(v.needsHelp).toEqual([1]);
    expect(v.commonFailures[0]?.count).toBe(2);
    expect(v.alerts).toHaveLength(1);
  });

  it('GET /api/class sends a ClassResponse unchanged', async () => {
    const body = { class: { name: 'c', joinCode: 'ABCD', labs: false }, ...v };
    expect(await through(classResponses, body)).toEqual(JSON.parse(JSON.stringify(body)));
  });

  it('GET /api/export.json sends a ClassExport unchanged', async () => {
    const body = classJson(v, 'c');
    expect(await through(exportResponses, body)).toEqual(JSON.parse(JSON.stringify(body)));
  });

  it('a learner without a failing table (null) goes through too', async () => {
    const body = { class: { name: 'c', joinCode: 'ABCD', labs: false }, ...v, learners: v.learners.map((l) => ({ ...l, table: null, failing: [] })) };
    expect(await through(classResponses, body)).toEqual(JSON.parse(JSON.stringify(body)));
  });
});
