// The cockpit at the size of a room (issue 22), in chromium: the projector view at 30 learners
// fits 1920x1080 at 150 % zoom (screenshots at both, test-results/classroom-projector*.png), and
// at 30 and 300 learners on each store the time from a learner's report to the dashboard's
// change (p90) and the page load, written to test-results/classroom-load.json as dashboardP90Ms
// and pageLoadMs (…30 for 30 learners). The machine has 2 cores shared with other work: the
// figures are recorded, and only a loose bound is asserted. axe-core on the projector view and
// the virtual grid.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/workshop.ts';
import { axeCheck, CHROMIUM, CHROMIUM_ARGS, inProcess, joinAs, mergeLoadRow, PACK, post, report, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const RESULTS = join(REPO, 'test-results', 'classroom-load.json');
const run = existsSync(CHROMIUM) || process.env['CI'] === 'true';
const ago = (s: number): string => new Date(Date.now() - s * 1000).toISOString();
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;
const SAMPLES = 20;

/** A room of `n`: a third stuck on the second step (five different problems), the rest at work. Joined 20 at a time. */
async function fill(t: TestServer, n: number): Promise<string[]> {
  const [s1 = 'preflight/vm', s2 = 'preflight/root'] = PACK.steps.map((s) => s.id);
  const one = async (i: number): Promise<string> => {
    const token = await joinAs(t.origin, t.joinCode, `learner ${String(i).padStart(3, '0')}`);
    const at = i % 3 === 0 ? 600 + i : 30;
    await post(t.origin, token, report({ kind: 'passed', step: s1, command: 'learner', next: s2, outcome: null, rows: [], at: ago(at) }));
    const problem = i % 5;
    const r = await post(t.origin, token, report({ step: s2, attempts: i % 3 === 0 ? 4 : 1, rows: [{ check: `check number ${problem} of the step`, status: 'fail', expected: `value ${problem}`, actual: `learner ${i} has nothing`, hint: '' }] }));
    expect(r.status, r.body.error).toBe(201);
    return token;
  };
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 20) tokens.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) => one(i + k)))));
  return tokens;
}


describe.each(STORES)('the cockpit at the size of a room, on $name', (factory) => {
  // chromium.launch: a fresh temporary profile of its own
  let browser: Browser;
  let context: BrowserContext;
  const servers: TestServer[] = [];
  const row: Record<string, unknown> = { store: `${factory.name} dashboard` };

  beforeAll(async () => {
    if (!run) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    // bypassCSP: the test's own probes are evaluated in the page, which the page's CSP forbids
    context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, bypassCSP: true });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    for (const t of servers) await t.close();
    await factory.cleanup();
  });

  const room = async (n: number): Promise<{ t: TestServer; tokens: string[] }> => {
    const t = await inProcess(factory, { thresholds: { idleAfterMs: 30 * 60_000, stuckAfterMs: 5 * 60_000, stuckAttempts: 3 }, joinLimits: { perAddress: { capacity: n + 10, windowMs: 60_000 }, perClass: { capacity: n + 10, windowMs: 60_000 } } });
    servers.push(t);
    return { t, tokens: await fill(t, n) };
  };

  /** Page load, then SAMPLES reports each timed until the page has drawn them. */
  const measure = async (t: TestServer, tokens: string[], page: Page): Promise<{ pageLoadMs: number; dashboardP90Ms: number; medianMs: number }> => {
    await page.goto(`${t.origin}/?token=${t.token}`); // sets the cookie
    const started = Date.now();
    await page.reload();
    await page.waitForFunction(`Number(document.body.dataset.lastEventId) > 0 && document.querySelector('#grid tbody tr[data-id]') !== null`, undefined, { polling: 10 });
    const pageLoadMs = Date.now() - started;
    await page.locator('#live', { hasText: 'live' }).waitFor();
    const lat: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const token = tokens[(i * 7) % tokens.length] ?? '';
      const t0 = Date.now();
      const r = await post(t.origin, token, report({ step: PACK.steps[1]?.id ?? '', attempts: 5 + i }));
      await page.waitForFunction(`Number(document.body.dataset.lastEventId) >= ${r.body.eventId ?? 0}`, undefined, { polling: 10, timeout: 20_000 });
      lat.push(Date.now() - t0);
    }
    return { pageLoadMs, dashboardP90Ms: quantile(lat, 0.9), medianMs: quantile(lat, 0.5) };
  };

  it.runIf(run && factory.name === 'sqlite')('fits the projector view of 30 learners into 1920x1080 at 150 % zoom, readable', async () => {
    const { t } = await room(30);
    const shots = join(REPO, 'test-results');
    mkdirSync(shots, { recursive: true });
    // 150 % zoom: 1280x720 CSS pixels on a 1920x1080 screen
    for (const [zoom, name] of [[1.5, 'classroom-projector.png'], [1, 'classroom-projector-100.png']] as const) {
      // a context of its own: the zoom is its device scale factor
      const zoomed = await browser.newContext({ viewport: { width: Math.round(1920 / zoom), height: Math.round(1080 / zoom) }, deviceScaleFactor: zoom, bypassCSP: true });
      const p = await zoomed.newPage();
      await p.goto(`${t.origin}/?token=${t.token}&view=projector`);
      await p.locator('#needs-help button.help').first().waitFor();
      expect(new URL(p.url()).search).toBe('?view=projector');
      const fits = (await p.evaluate('[document.documentElement.scrollWidth <= innerWidth, document.documentElement.scrollHeight <= innerHeight, innerWidth, innerHeight, document.documentElement.scrollHeight]')) as [boolean, boolean, number, number, number];
      console.log(`projector at ${zoom * 100} %: ${fits[2]}x${fits[3]} CSS px, page height ${fits[4]}`);
      await p.screenshot({ path: join(shots, name) });
      expect(fits.slice(0, 2)).toEqual([true, true]);
      // only Needs help, Common failures and the progress per step
      expect(await p.locator('#grid-panel').isVisible()).toBe(false);
      expect(await p.locator('#needs-help li').count()).toBe(7); // six, and "and 4 more"
      expect(await p.locator('#common > li').count()).toBe(5); // four, and "and 1 more"
      const px = Number.parseFloat((await p.evaluate(`getComputedStyle(document.querySelector('#common strong')).fontSize`)) as string);
      expect(px).toBeGreaterThanOrEqual(20);
      expect((await axeCheck(p, `the projector view at ${zoom * 100} %`)).bad).toEqual([]);
      await zoomed.close();
    }
  });

  for (const n of [30, 300]) {
    it.runIf(run)(`measures ${n} learners: a report reaches the dashboard (p90) and the page loads, within loose bounds`, { timeout: 600_000 }, async () => {
      const { t, tokens } = await room(n);
      const page = await context.newPage();
      const m = await measure(t, tokens, page);
      console.log(`${factory.name}, ${n} learners: page load ${m.pageLoadMs} ms, report to dashboard p90 ${m.dashboardP90Ms} ms (median ${m.medianMs} ms)`);
      const suffix = n === 300 ? '' : String(n);
      row[`dashboardP90Ms${suffix}`] = m.dashboardP90Ms;
      row[`pageLoadMs${suffix}`] = m.pageLoadMs;
      row[`dashboardMedianMs${suffix}`] = m.medianMs;
      mergeLoadRow(RESULTS, { store: `${factory.name} dashboard`, ...row });
      // the goal is 1 s for both; a loaded 2-core CI machine gets a loose bound, the figure is recorded
      expect(m.dashboardP90Ms).toBeLessThan(10_000);
      expect(m.pageLoadMs).toBeLessThan(15_000);
      if (n === 300) {
        // the grid draws the rows in view, not 300; the keyboard still walks it
        const drawn = await page.locator('#grid tbody tr[data-id]').count();
        expect(drawn).toBeLessThan(120);
        expect((await axeCheck(page, `the dashboard of ${n} (virtual grid)`)).bad).toEqual([]);
        await page.locator('#grid tbody tr[data-id]').first().focus();
        for (let i = 0; i < 80; i++) await page.keyboard.press('ArrowDown');
        expect(await page.evaluate(`document.activeElement?.dataset?.learner`)).toBe('learner 080');
      }
      await page.close();
    });
  }
});
