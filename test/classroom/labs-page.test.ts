// The hosted labs' pages in Chromium, on the fake driver (test/unit/labs-fake.ts: the real frames,
// a guest that echoes): a learner joins on /lab and types into the terminal, sees their checks, and
// re-attaches after a reload; the instructor watches, takes over (the learner sees the banner),
// and replays the recording with its timeline. Screenshots: test-results/lab-learner.png and
// test-results/lab-instructor.png (on real VMs: test/labs/server.test.ts).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabsConfig } from '../../src/classroom/labs-plugin.ts';
import { LESSONS, REPO } from '../helpers/workshop.ts';
import { FakeDriver } from '../unit/labs-fake.ts';
import { inProcess, report, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const CHROMIUM = process.env['WORKSHOP_CHROMIUM'] ?? '/usr/bin/chromium';
const sqlite = STORES.find((s) => s.name === 'sqlite');
const run = sqlite !== undefined && (existsSync(CHROMIUM) || process.env['CI'] === 'true');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.runIf(run)('the hosted labs pages in chromium (a fake driver)', () => {
  let t: TestServer;
  let driver: FakeDriver;
  const dirs: string[] = [];
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!sqlite) return;
    driver = new FakeDriver();
    const stateDir = mkdtempSync(join(tmpdir(), 'ws-labs-page-'));
    dirs.push(stateDir);
    const labs: LabsConfig = { driver, stateDir, capacity: 2, warm: 0, spec: { memoryMiB: 512, cpus: 1 }, idleStopMs: 60_000, lessonsDir: LESSONS, expireOnClose: true, bootTimeoutMs: 2000 };
    t = await inProcess(sqlite, { labs });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await t?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  async function browserPage(): Promise<Page> {
    const profile = mkdtempSync(join(tmpdir(), 'ws-chromium-'));
    dirs.push(profile);
    const c = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 800 } });
    contexts.push(c);
    const p = c.pages()[0] ?? (await c.newPage());
    p.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    p.on('pageerror', (e) => problems.push(e.message));
    return p;
  }

  const screen = (p: Page) => p.locator('#term .xterm-rows');
  let learner: Page;
  let instructor: Page;

  it('lets a learner join on /lab, type into their own VM, and see their checks', async () => {
    learner = await browserPage();
    await learner.goto(`${t.origin}/lab`);
    await learner.locator('#join').waitFor();
    await learner.fill('#code', t.joinCode);
    await learner.fill('#name', 'ada');
    await learner.click('#join button');
    await learner.locator('#status', { hasText: 'connected' }).waitFor();
    await expect.poll(() => learner.locator('#step-id').textContent()).toBe('preflight/vm');
    expect(await learner.locator('.recorded').textContent()).toMatch(/recorded/);
    await learner.locator('#term').click();
    await learner.keyboard.type('echo hello-from-chromium');
    await learner.keyboard.press('Enter');
    await screen(learner).getByText('hello-from-chromium').first().waitFor();

    const vm = driver.vms.values().next().value;
    const agent = vm?.agent;
    if (!agent) throw new Error('no agent');
    expect((await agent.report(JSON.stringify(report()))).status).toBe(201);
    await learner.locator('#check-table tr.fail').first().waitFor();
    expect(await learner.locator('#check-outcome').textContent()).toBe('preflight/vm: failed');
  });

  it('re-attaches after a reload', async () => {
    await learner.reload();
    await learner.locator('#status', { hasText: 'connected' }).waitFor();
    await learner.locator('#term').click();
    await learner.keyboard.type('echo after-the-reload');
    await learner.keyboard.press('Enter');
    await screen(learner).getByText('after-the-reload').first().waitFor();
  });

  it('lets the instructor watch, take over with a banner on the learner’s page, and replay the timeline', async () => {
    instructor = await browserPage();
    await instructor.goto(`${t.origin}/?token=${t.token}`);
    // from the dashboard: the learner's panel links to their terminal, which opens read-only
    await instructor.locator('#grid tbody tr[data-learner="ada"]').click();
    await instructor.locator('#watch-lab').click();
    await instructor.waitForURL(/\/lab\/instructor#watch=\d+$/);
    await screen(instructor).getByText('after-the-reload').first().waitFor(); // the backlog
    expect(await instructor.locator('#mode').textContent()).toMatch(/watching, read-only/);
    const row = instructor.locator('#labs tbody tr[data-learner="ada"]');

    await learner.locator('#term').click();
    await learner.keyboard.type('echo typed-while-watched');
    await learner.keyboard.press('Enter');
    await screen(instructor).getByText('typed-while-watched').first().waitFor();

    await instructor.click('#takeover');
    await learner.locator('#banner').waitFor({ state: 'visible' });
    await instructor.locator('#term').click();
    await instructor.keyboard.type('echo the-instructor-types');
    await instructor.keyboard.press('Enter');
    await screen(learner).getByText('the-instructor-types').first().waitFor();
    await instructor.locator('#log li', { hasText: 'took over' }).first().waitFor();
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await learner.screenshot({ path: join(REPO, 'test-results', 'lab-learner-fake.png') });
    await instructor.screenshot({ path: join(REPO, 'test-results', 'lab-instructor-fake.png') });
    await instructor.click('#giveback');
    await learner.locator('#banner').waitFor({ state: 'hidden' });

    await row.locator('button[data-act="Replay"]').click();
    const failed = instructor.locator('#timeline li.fail');
    await failed.first().waitFor();
    expect(await failed.first().textContent()).toMatch(/preflight\/vm attempted fail.*after: echo hello-from-chromium/s);
    await failed.first().locator('button').click();
    await screen(instructor).getByText('hello-from-chromium').first().waitFor();
    expect(problems).toEqual([]);
  });
});
