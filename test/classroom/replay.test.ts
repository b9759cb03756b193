// The room over time (issue 22): GET /api/history gives every step passed and when, GET
// /api/class/at replays the class to any past moment from the stored events, and the dashboard's
// scrubber shows the page as it was then, held still, until "Back to live". In chromium, with the
// class fed through the HTTP API.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassHistory, ClassResponse } from '../../src/classroom/contract.ts';
import { REPO } from '../helpers/workshop.ts';
import { axeCheck, CHROMIUM, chromiumPage, getJson, inProcess, joinAs, PACK, postStored, sleep, type TestServer } from './harness.ts';
import type { Report } from '../../src/classroom/store.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');
const run = sqlite !== undefined && (existsSync(CHROMIUM) || process.env['CI'] === 'true');
const STEP = PACK.steps[0]?.id ?? 'preflight/vm';
const STEP2 = PACK.steps[1]?.id ?? 'preflight/root';

describe.runIf(run)('the room over time', () => {
  let t: TestServer;
  let context: BrowserContext;
  let page: Page;
  let mid = 0;
  const profile = mkdtempSync(join(tmpdir(), 'ws-chromium-'));
  const problems: string[] = [];

  const stored = (token: string, over: Partial<Report>): Promise<void> => postStored(t.origin, token, over);

  beforeAll(async () => {
    if (!sqlite) return;
    t = await inProcess(sqlite);
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    await stored(ada, { kind: 'passed', step: STEP, command: 'learner', next: STEP2, outcome: null, rows: [] });
    await sleep(1200);
    mid = Date.now();
    await sleep(1200);
    const bob = await joinAs(t.origin, t.joinCode, 'bob');
    await stored(bob, { kind: 'passed', step: STEP, command: 'learner', next: STEP2, outcome: null, rows: [] });
    await stored(bob, { kind: 'passed', step: STEP2, command: 'solve', next: PACK.steps[2]?.id ?? null, outcome: null, rows: [] });
    // a second pass of a step is no new point of the chart
    await stored(bob, { kind: 'passed', step: STEP, command: 'learner', next: STEP2, outcome: null, rows: [] });
    ({ context, page } = await chromiumPage(profile, problems, { bypassCSP: true }));
  });

  afterAll(async () => {
    await context?.close();
    await t?.close();
    await sqlite?.cleanup();
    rmSync(profile, { recursive: true, force: true });
  });

  it('gives each learner\'s first pass of each step, and the class as it was at a past moment', async () => {
    const h = await getJson<ClassHistory>(t.origin, '/api/history', t.token);
    expect(h.passes.map((p) => p.step)).toEqual([STEP, STEP, STEP2]);
    expect(Date.parse(h.from ?? '')).toBeLessThan(mid);
    const then = await getJson<ClassResponse>(t.origin, `/api/class/at?t=${new Date(mid).toISOString()}`, t.token);
    expect(then.learners.map((l) => l.name)).toEqual(['ada']);
    expect(then.passed.slice(0, 2)).toEqual([1, 0]);
    expect(then.generatedAt).toBe(new Date(mid).toISOString());
    const now = await getJson<ClassResponse>(t.origin, '/api/class', t.token);
    expect(now.passed.slice(0, 2)).toEqual([2, 1]);
    // not a moment, or not the instructor: refused
    const bad = await fetch(`${t.origin}/api/class/at?t=yesterday`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(bad.status).toBe(400);
    const ada = await joinAs(t.origin, t.joinCode, 'cy');
    expect((await fetch(`${t.origin}/api/history`, { headers: { authorization: `Bearer ${ada}` } })).status).toBe(401);
  });

  it('replays the dashboard to that moment with the scrubber, held still, and goes back to live', async () => {
    await page.goto(`${t.origin}/?token=${t.token}`);
    await page.locator('#grid tbody tr[data-learner="bob"]').waitFor();
    await page.locator('#spark svg polyline').waitFor();
    await page.evaluate(`(() => {
      const h = roomHistory;
      const from = Date.parse(h.from), to = Date.parse(h.to);
      const s = document.getElementById('scrub');
      s.value = String(Math.round(((${mid} - from) / (to - from)) * 1000));
      s.dispatchEvent(new Event('input'));
    })()`);
    await page.locator('#replaying', { hasText: 'Replaying the room at' }).waitFor();
    await page.locator('#grid tbody tr[data-learner="bob"]').waitFor({ state: 'detached' });
    expect(await page.locator('#grid tbody tr').count()).toBe(1);
    expect(await page.locator('#spark svg line.mark').count()).toBe(1);
    expect((await axeCheck(page, 'the replayed dashboard')).bad).toEqual([]);
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-results', 'classroom-replay.png'), fullPage: true });
    await page.click('#scrub-live');
    await page.locator('#grid tbody tr[data-learner="bob"]').waitFor();
    expect(await page.locator('#replaying').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });
});
