// The instructor's cockpit in chromium (issue 22): Needs help ranked by time stuck, one common
// failure for learners whose nonces differ (each with their own actual value), state badges in
// words and symbols, cells that differ without colour and with AA contrast, a learner's table
// opened by keyboard alone, and axe-core on the page. The class is fed through the HTTP API, so
// this runs in seconds; dashboard.test.ts follows real learners.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/workshop.ts';
import { axeCheck, CHROMIUM, chromiumPage, inProcess, joinAs, PACK, postStored, type TestServer } from './harness.ts';
import type { Report } from '../../src/classroom/store.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');
const run = sqlite !== undefined && (existsSync(CHROMIUM) || process.env['CI'] === 'true');
const STEP = PACK.steps[0]?.id ?? 'preflight/vm';
const STEP2 = PACK.steps[1]?.id ?? 'preflight/root';
const ago = (s: number): string => new Date(Date.now() - s * 1000).toISOString();

describe.runIf(run)('the cockpit in chromium', () => {
  let t: TestServer;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'ws-chromium-'));
  const problems: string[] = [];

  const stored = (token: string, over: Partial<Report>): Promise<void> => postStored(t.origin, token, over);

  beforeAll(async () => {
    if (!sqlite) return;
    t = await inProcess(sqlite, { thresholds: { idleAfterMs: 10 * 60_000, stuckAfterMs: 60_000, stuckAttempts: 3 } });
    // three stuck on the second step, each with their own nonce in the check: one problem
    const nonces: Record<string, [string, number, number]> = { ada: ['8f3a2b1c9d0e', 300, 3], bob: ['0b1c2d3e4f5a', 500, 3], cy: ['a1b2c3d4e5f6', 120, 5] };
    for (const [name, [nonce, since, attempts]] of Object.entries(nonces)) {
      const token = await joinAs(t.origin, t.joinCode, name);
      await stored(token, { kind: 'passed', step: STEP, command: 'learner', next: STEP2, outcome: null, rows: [], at: ago(since) });
      await stored(token, { step: STEP2, attempts, rows: [{ check: `rootfs/HELLO.txt contains "${nonce}"`, status: 'fail', expected: `a file containing "${nonce}"`, actual: `${name}'s file is empty`, hint: '' }] });
    }
    const dee = await joinAs(t.origin, t.joinCode, 'dee');
    // dee passed the first step with `workshop solve`, the others by hand
    for (const [i, s] of PACK.steps.entries()) await stored(dee, { kind: 'passed', step: s.id, command: i === 0 ? 'solve' : 'learner', next: PACK.steps[i + 1]?.id ?? null, outcome: null, rows: [] });
    const eve = await joinAs(t.origin, t.joinCode, 'eve');
    await stored(eve, { kind: 'left', step: '', command: '', outcome: null, rows: [], attempts: 0 });
    const fay = await joinAs(t.origin, t.joinCode, 'fay');
    await stored(fay, { attempts: 1 });

    ({ context, page } = await chromiumPage(profile, problems, { bypassCSP: true }));
    await page.goto(`${t.origin}/?token=${t.token}`);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    await page.locator('#grid tbody tr[data-learner="fay"]').waitFor();
  });

  afterAll(async () => {
    await context?.close();
    await t?.close();
    rmSync(profile, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  const row = (name: string) => page.locator(`#grid tbody tr[data-learner="${name}"]`);

  it('lists the stuck in Needs help, the longest stuck first', async () => {
    expect(await page.locator('#needs-help button.help strong').allTextContents()).toEqual(['bob', 'ada', 'cy']);
  });

  it('shows one common failure for three learners whose nonces differ, each with their own actual value', async () => {
    const group = page.locator('#common > li', { hasText: 'HELLO.txt' });
    expect(await group.count()).toBe(1);
    expect(await group.locator('.count').textContent()).toBe('3 of 6');
    expect(await group.locator('.members li').allTextContents()).toEqual(["bob: bob's file is empty", "ada: ada's file is empty", "cy: cy's file is empty"]);
  });

  it('says each state in words and a symbol, not colour alone', async () => {
    const badge = async (name: string) => (await row(name).locator('.badge').allTextContents()).join(' ');
    expect(await badge('ada')).toBe('⚠ stuck');
    expect(await badge('dee')).toBe('✔ finished');
    expect(await badge('eve')).toBe('⇥ left');
    expect(await badge('fay')).toBe('');
    // done, failing, current and to do differ by their symbol, so in greyscale too
    const cells = (name: string) => row(name).locator('td.c .cell').allTextContents();
    expect((await cells('ada')).slice(0, 3)).toEqual(['✔', '✘', '○']);
    expect((await cells('fay')).slice(0, 2)).toEqual(['✘', '○']);
    expect((await cells('eve')).slice(0, 2)).toEqual(['●', '○']);
    expect((await cells('dee')).slice(0, 2)).toEqual(['◆', '✔']); // solved by `workshop solve`, then by hand
    expect(await page.locator('#counts').textContent()).toMatch(/6 learners · 3 stuck · 0 idle · 1 finished · 1 left/);
  });

  it('gives every cell symbol and badge a contrast of at least 4.5:1 (WCAG AA)', async () => {
    // in the page (a string: this file is compiled without the DOM's types)
    const ratios = (await page.evaluate(`(() => {
      const lum = (c) => {
        const [r, g, b] = (c.match(/[\\d.]+/g) || []).slice(0, 3).map((v) => { const s = Number(v) / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const out = {};
      for (const e of document.querySelectorAll('#grid .cell, #grid .badge')) {
        const st = getComputedStyle(e);
        const [a, b] = [lum(st.color), lum(st.backgroundColor)];
        out[e.className] = Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100;
      }
      return out;
    })()`)) as Record<string, number>;
    console.log(`contrast: ${JSON.stringify(ratios)}`);
    expect(Object.keys(ratios).sort()).toEqual(expect.arrayContaining(['cell current', 'cell done', 'cell solved', 'cell failing', 'cell todo', 'badge state-stuck', 'badge state-finished', 'badge state-left']));
    for (const [what, ratio] of Object.entries(ratios)) expect(ratio, what).toBeGreaterThanOrEqual(4.5);
  });

  it('opens a learner\'s table with the keyboard alone: Tab to Needs help, Enter; Tab to a row, Enter', async () => {
    await page.locator('body').focus();
    const tabTo = async (selector: string): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    await tabTo('#needs-help button.help');
    await page.keyboard.press('Enter');
    await page.locator('#detail-title', { hasText: 'Checks of bob' }).waitFor();
    expect(await page.locator('#detail').textContent()).toContain('0b1c2d3e4f5a');
    await tabTo('#grid tbody tr[data-learner="cy"]');
    await page.keyboard.press('Enter');
    await page.locator('#detail-title', { hasText: 'Checks of cy' }).waitFor();
  });

  it('has no serious or critical axe-core violation (WCAG 2 A and AA)', async () => {
    expect((await axeCheck(page, 'the dashboard')).bad).toEqual([]);
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-results', 'classroom-cockpit.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
