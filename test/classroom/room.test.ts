// What the class API says about the room (issue 22): learner states (left, finished, idle, stuck,
// active), Needs help ranked by time stuck and attempts, and common failures grouped by meaning,
// not split by each learner's nonce, sorted by learner-minutes. Through the HTTP API, on each store.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ClassResponse } from '../../src/classroom/contract.ts';
import { getJson, inProcess, joinAs, PACK, post, report, sleep, until, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const STEP = PACK.steps[0]?.id ?? 'preflight/vm';
const STEP2 = PACK.steps[1]?.id ?? 'preflight/root';
const ago = (s: number): string => new Date(Date.now() - s * 1000).toISOString();
const fail = (check: string, expected: string, actual: string) => [{ check, status: 'fail' as const, expected, actual, hint: '' }];

describe.each(STORES)('the room on $name', (factory) => {
  let t: TestServer;
  // the store's databases (for PostgreSQL, its throwaway server) go with the suite
  afterAll(() => factory.cleanup());
  afterEach(async () => {
    await t?.close();
    last = 0;
  });
  let last = 0;
  /** The class, once the model has applied the last report stored (it follows the store's events). */
  const room = async (): Promise<ClassResponse> => {
    let v = await getJson<ClassResponse>(t.origin, '/api/class', t.token);
    await until(`event ${last} in the model`, async () => (v = await getJson<ClassResponse>(t.origin, '/api/class', t.token)).lastEventId >= last);
    return v;
  };
  const stored = async (token: string, over: Parameters<typeof report>[0]): Promise<void> => {
    const r = await post(t.origin, token, report(over));
    expect(r.status, r.body.error).toBe(201);
    last = Math.max(last, r.body.eventId ?? 0);
  };
  const stateOf = async (name: string) => (await room()).learners.find((l) => l.name === name);

  /** The learner passed the first step `s` seconds ago: they have been on the second one since. */
  const onSecondStepFor = (token: string, s: number): Promise<void> => stored(token, { kind: 'passed', step: STEP, command: 'learner', next: STEP2, outcome: null, rows: [], at: ago(s) });

  it('gives each learner a state: left, finished, idle, stuck or active', async () => {
    t = await inProcess(factory, { thresholds: { idleAfterMs: 2000, stuckAfterMs: 3 * 60_000, stuckAttempts: 3 } });
    const token: Record<string, string> = {};
    for (const n of ['leaver', 'finisher', 'sleeper', 'stuck', 'busy']) token[n] = await joinAs(t.origin, t.joinCode, n);
    const as = (n: string): string => token[n] ?? '';
    await sleep(2100); // the sleeper has done nothing since joining
    // four minutes on the second step, failing it three times: stuck
    for (const n of ['leaver', 'finisher', 'stuck']) {
      await onSecondStepFor(as(n), 240);
      await stored(as(n), { step: STEP2, attempts: 3 });
    }
    // four minutes, but one attempt: not stuck (both rules, not either)
    await onSecondStepFor(as('busy'), 240);
    await stored(as('busy'), { step: STEP2, attempts: 1 });
    expect((await stateOf('leaver'))?.state).toBe('stuck');
    // `classroom leave` posts a left report (no step)
    await stored(as('leaver'), { kind: 'left', step: '', command: '', outcome: null, rows: [], attempts: 0 });
    // every step of the pack passed
    for (const [i, st] of PACK.steps.entries()) await stored(as('finisher'), { kind: 'passed', step: st.id, command: 'learner', next: PACK.steps[i + 1]?.id ?? null, outcome: null, rows: [] });
    const v = await room();
    const states = Object.fromEntries(v.learners.map((l) => [l.name, [l.state, l.stuck, l.stuckFor > 0]]));
    expect(states).toEqual({
      leaver: ['left', false, false],
      finisher: ['finished', false, false],
      sleeper: ['idle', false, false],
      stuck: ['stuck', true, true],
      busy: ['active', false, false],
    });
    expect(v.needsHelp).toEqual([v.learners.find((l) => l.name === 'stuck')?.id]);
    expect((await stateOf('stuck'))?.stuckFor).toBeGreaterThanOrEqual(239);
  });

  it('says idle for a learner with no command for --idle-after; left after leave; back with the next report', async () => {
    t = await inProcess(factory, { thresholds: { idleAfterMs: 1000, stuckAfterMs: 60_000, stuckAttempts: 1 } });
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    await stored(ada, { attempts: 1 });
    expect((await stateOf('ada'))?.state).toBe('active');
    await sleep(1100);
    expect((await stateOf('ada'))?.state).toBe('idle');
    await stored(ada, { kind: 'left', step: '', command: '', outcome: null, rows: [], attempts: 0 });
    expect((await stateOf('ada'))?.state).toBe('left');
    await stored(ada, { attempts: 2 });
    expect((await stateOf('ada'))?.state).toBe('active');
  });

  it('tells the steps passed with `workshop solve` apart, in the API and the CSV export', async () => {
    t = await inProcess(factory);
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    await stored(ada, { kind: 'passed', step: STEP, command: 'solve', next: STEP2, outcome: null, rows: [] });
    const v = await room();
    expect(v.learners[0]).toMatchObject({ done: [STEP], solved: [STEP] });
    expect(v.learners[0]?.cells.slice(0, 2)).toEqual(['solved', 'current']);
    const csv = await (await fetch(`${t.origin}/api/export.csv`, { headers: { authorization: `Bearer ${t.token}` } })).text();
    const [head = '', row = ''] = csv.split('\r\n');
    const solvedAt = head.split(',').indexOf('solved');
    expect(solvedAt).toBeGreaterThan(0);
    expect(row.split(',')[solvedAt]).toBe('1');
    expect(row.split(',')[head.split(',').indexOf(STEP)]).toBe('solved');
  });

  it('refuses a left report that names a step, and any other report without one (422)', async () => {
    t = await inProcess(factory);
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    expect((await post(t.origin, ada, report({ kind: 'left', step: STEP }))).status).toBe(422);
    expect((await post(t.origin, ada, report({ step: '' }))).status).toBe(422);
  });

  it('ranks Needs help by time stuck, then attempts, not by who reached the step last', async () => {
    t = await inProcess(factory, { thresholds: { idleAfterMs: 5 * 60_000, stuckAfterMs: 60_000, stuckAttempts: 3 } });
    // nine who just reached the step and tried three times in a row, and three stuck for minutes
    const plan: Array<[string, number, number]> = [
      ...Array.from({ length: 9 }, (_, i): [string, number, number] => [`new${i}`, 10, 3]),
      ['old4', 240, 3],
      ['old6', 360, 4],
      ['old6b', 360, 6],
    ];
    for (const [name, since, attempts] of plan) {
      const token = await joinAs(t.origin, t.joinCode, name);
      await onSecondStepFor(token, since);
      await stored(token, { step: STEP2, at: ago(2), attempts });
    }
    const v = await room();
    const names = v.needsHelp.map((id) => v.learners.find((l) => l.id === id)?.name);
    expect(names).toEqual(['old6b', 'old6', 'old4']); // the nine: 10 s on the step, not stuck yet
    // the common failure they share is one group of twelve
    expect(v.commonFailures).toHaveLength(1);
    expect(v.commonFailures[0]?.count).toBe(12);
  });

  it('groups one failing check across learners whatever their nonces, paths and times; each keeps their own actual', async () => {
    t = await inProcess(factory);
    const nonces = ['8f3a2b1c9d0e', '0b1c2d3e4f5a', 'a1b2c3d4e5f6'];
    for (const [i, name] of ['ada', 'bob', 'cy'].entries()) {
      const token = await joinAs(t.origin, t.joinCode, name);
      const n = nonces[i] ?? '';
      await stored(token, { rows: fail(`rootfs/HELLO.txt contains "${n}"`, `a file containing "${n}"`, `/tmp/ws-${name}-Xk${i}9aQ/rootfs/HELLO.txt: nothing there`) });
    }
    const bob = (await room()).learners.find((l) => l.name === 'bob');
    // and one who has failed another check, of the next step, for ten minutes
    const dee = await joinAs(t.origin, t.joinCode, 'dee');
    await onSecondStepFor(dee, 600);
    await stored(dee, { step: STEP2, rows: fail('vm.txt holds the hypervisor', 'kvm', 'no vm.txt') });
    const v = await room();
    expect(v.commonFailures.map((f) => [f.check.replace(/"[0-9a-f]+"/, '"…"'), f.count])).toEqual([
      ['vm.txt holds the hypervisor', 1], // 10 learner-minutes
      ['rootfs/HELLO.txt contains "…"', 3], // 3 x a few seconds
    ]);
    const group = v.commonFailures[1];
    expect(group?.members.map((m) => [m.name, m.actual.replace(/ws-\w+-\w+/, 'ws-…')])).toEqual([
      ['ada', '/tmp/ws-…/rootfs/HELLO.txt: nothing there'],
      ['bob', '/tmp/ws-…/rootfs/HELLO.txt: nothing there'],
      ['cy', '/tmp/ws-…/rootfs/HELLO.txt: nothing there'],
    ]);
    expect(group?.members.find((m) => m.name === 'bob')?.id).toBe(bob?.id);
    expect(group?.learners).toEqual(['ada', 'bob', 'cy']);
  });
});
