// The dashboard in a real browser: Debian's chromium driven by playwright-core (no browser
// download). Two learners, real `workshop` CLIs with their own homes, work through preflight while
// the page follows over SSE: the grid, a stuck learner, a failing check table, a common failure,
// the CSV export, markup shown as text. The screenshot goes to test-results/classroom-dashboard.png.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, REPO, sh, workshop } from '../helpers/workshop.ts';
import { CHROMIUM, chromiumPage, joinAs, killSender, post, report, serveProcess, type ServeProcess } from './harness.ts';
import { STORES } from './stores.ts';

const SHOT = join(REPO, 'test-results', 'classroom-dashboard.png');
const sqlite = STORES.find((s) => s.name === 'sqlite');
// CI installs chromium (provision.sh) and must run this; elsewhere it runs when chromium is there.
const run = isRoot && sqlite !== undefined && (existsSync(CHROMIUM) || process.env['CI'] === 'true');

describe.runIf(run)('the dashboard in chromium', () => {
  let server: ServeProcess;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'ws-chromium-'));
  const ada = mkdtempSync(join(tmpdir(), 'ws-ada-'));
  const bob = mkdtempSync(join(tmpdir(), 'ws-bob-'));
  const problems: string[] = [];

  const learner = (home: string) => ({
    run: async (...args: string[]) => {
      const r = await workshop(home, args);
      if (r.code === null || r.code > 1) throw new Error(`workshop ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r;
    },
    sh: async (script: string) => expect((await sh(join(home, 'chapters', 'preflight'), script)).code).toBe(0),
  });

  beforeAll(async () => {
    if (!sqlite) return;
    server = await serveProcess(await sqlite.freshDb(), 0, ['--stuck-attempts', '3', '--stuck-after', '0s']);
    ({ context, page } = await chromiumPage(profile, problems, { acceptDownloads: true }));
  });

  const extra: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of extra) await stop();
    await context?.close();
    for (const h of [ada, bob]) killSender(h);
    await server?.stop();
    for (const d of [profile, ada, bob]) rmSync(d, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  const row = (name: string) => page.locator(`#grid tbody tr[data-learner="${name}"]`);
  const cell = (name: string, step: string) => row(name).locator(`td[data-step="${step}"]`);

  it('follows two learners live through preflight, with a failing table, a common failure and the CSV export', async () => {
    await page.goto(`${server.origin}/?token=${server.token}`);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar for a cookie
    await page.locator('#live', { hasText: 'live' }).waitFor();

    const a = learner(ada);
    const b = learner(bob);
    await a.run('classroom', 'join', server.origin, server.joinCode, '--name', 'ada');
    await b.run('classroom', 'join', server.origin, server.joinCode, '--name', 'bob');
    await page.locator('#grid tbody tr').nth(1).waitFor();

    // both fail the first step: one group of two in Common failures
    await a.run('next');
    await b.run('next');
    await page.locator('#common li', { hasText: '2 of 2' }).first().waitFor();
    await expect.poll(() => cell('ada', 'preflight/vm').getAttribute('data-state')).toBe('failing');

    // ada advances, live
    await a.sh('systemd-detect-virt --vm > vm.txt || true');
    await a.run('next');
    await expect.poll(() => cell('ada', 'preflight/vm').getAttribute('data-state')).toBe('done');
    await a.run('next'); // fails: no uid.txt yet
    await expect.poll(() => cell('ada', 'preflight/root').getAttribute('data-state')).toBe('failing');

    // bob follows, then fails the root step three times: stuck
    await b.sh('systemd-detect-virt --vm > vm.txt || true');
    await b.run('next');
    await b.run('hint');
    for (let i = 0; i < 3; i++) await b.run('next');
    await expect.poll(() => row('bob').getAttribute('class'), { timeout: 15_000 }).toMatch(/stuck/);
    const group = page.locator('#common li[data-step="preflight/root"]').first();
    await expect.poll(() => group.textContent()).toMatch(/^2 of 2: /);
    expect(await group.textContent()).toContain('ada, bob');

    // markup from the network is text: a script posts a check named like an <img> tag
    const script = await joinAs(server.origin, server.joinCode, 'script');
    const xss = '<img src=x onerror="window.__xss=1">';
    expect((await post(server.origin, script, report({ step: 'preflight/tools', rows: [{ check: xss, status: 'fail', expected: '<b>bold</b>', actual: 'x', hint: '' }] }))).status).toBe(201);
    await page.locator('#common li', { hasText: xss }).waitFor();
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();

    // click bob: his latest failing check table, as he saw it
    await row('bob').click();
    await page.locator('#detail-title', { hasText: 'Checks of bob' }).waitFor();
    const table = (await page.locator('#detail').textContent()) ?? '';
    expect(table).toContain('✘');
    expect(table).toContain('expected');
    expect(table).toContain('uid.txt');
    expect(await row('bob').locator('td').nth(3).textContent()).toBe('3');

    // the CSV export, from the page's button
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^name,current,done,total,attempts/);
    expect(csv).toMatch(/\r\nada,preflight\/root,1,/);
    expect(csv).toMatch(/\r\nbob,preflight\/root,1,\d+,3,/);

    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });

    // ada finishes the chapter, live
    await a.sh('id -u > uid.txt');
    await a.run('next');
    await expect.poll(() => cell('ada', 'preflight/root').getAttribute('data-state')).toBe('done');
    await a.sh('for t in busybox chroot mount findmnt unshare nsenter getfattr btrfs ip iptables systemd-nspawn; do command -v $t; done > tools.txt; true');
    await a.run('next');
    await expect.poll(() => cell('ada', 'preflight/tools').getAttribute('data-state')).toMatch(/done|failing/);

    // the server dies (kill -9) and comes back on the same port and database: the page's
    // EventSource reconnects with Last-Event-ID and gets what it missed, queued by bob meanwhile
    const db = server.db;
    const port = server.port;
    await server.kill9();
    await page.locator('#live', { hasText: 'reconnecting' }).waitFor();
    await b.run('hint');
    server = await serveProcess(db, port, ['--stuck-attempts', '3', '--stuck-after', '0s']);
    await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    await page.locator('#feed li', { hasText: 'bob: preflight/root hint 2' }).waitFor({ timeout: 20_000 });
    expect(await row('bob').locator('td').nth(4).textContent()).toMatch(/^2 /);
    expect(problems.filter((p) => !/ERR_CONNECTION_REFUSED|net::ERR_/.test(p))).toEqual([]);
  });

  it('says the class was restarted when the server comes back on an older copy of its database, and lets the instructor remove a learner', async () => {
    if (!sqlite) return;
    const db = await sqlite.freshDb();
    let s = await serveProcess(db);
    extra.push(() => s.stop());
    await joinAs(s.origin, s.joinCode, 'cy');
    // a copy of the database as it is now (stopped, so that the WAL is folded in)
    const port = s.port;
    await s.stop();
    copyFileSync(db, `${db}.copy`);
    s = await serveProcess(db, port);
    await page.goto(`${s.origin}/?token=${s.token}`);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    const dee = await joinAs(s.origin, s.joinCode, 'dee');
    for (let i = 0; i < 3; i++) expect((await post(s.origin, dee, report())).status).toBe(201);
    await page.locator('#feed li', { hasText: 'dee: preflight/vm next fail' }).first().waitFor();
    expect(await page.locator('#notice').isHidden()).toBe(true);
    // the instructor restores the copy: its newest event is older than what the page has seen
    await s.stop();
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    copyFileSync(`${db}.copy`, db);
    s = await serveProcess(db, port);
    await page.locator('#notice', { hasText: 'The class server restarted on another database' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('#grid tbody tr').count()).toBe(1);
    expect(await row('dee').count()).toBe(0);

    // remove cy from the page: a confirmation, then gone
    page.once('dialog', (d) => void d.accept());
    await row('cy').click();
    await page.locator('#remove-learner').click();
    await expect.poll(() => page.locator('#grid tbody tr').count()).toBe(0);
    await page.locator('#feed li', { hasText: 'cy was removed from the class' }).waitFor();
    expect(problems.filter((p) => !/ERR_CONNECTION_REFUSED|net::ERR_/.test(p))).toEqual([]);
  });
});
