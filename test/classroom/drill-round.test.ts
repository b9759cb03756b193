// The class drill round (issue 28), end to end: the instructor starts a break-it round from the
// dashboard in chromium; two real learners (homes running the built CLI, joined to a real
// `classroom serve`) get it on their next command, start it with `workshop drill --class`, fix
// each drill with their own commands, and the dashboard shows who fixed which and how long it
// took; axe-core on the page with the round drawn; the grading export has a row per learner ×
// drill. And `workshop classroom drill CHAPTER` from the instructor's terminal: help, errors, a
// second round. preflight: its drills break files only, so this runs here as root, with --allow-host.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillBook } from '../../src/engine/drill-record.ts';
import { isRoot, sh, workshop } from '../helpers/workshop.ts';
import { axeCheck, CHROMIUM, chromiumPage, inProcess, joinAs, killSender, learnerHome, post, report, serveProcess, type ServeProcess, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');
const run = isRoot && sqlite !== undefined && (existsSync(CHROMIUM) || process.env['CI'] === 'true');

/** What a learner types to repair each preflight step: the step's own commands. */
const FIX: Record<string, string> = {
  vm: 'systemd-detect-virt --vm > vm.txt || true',
  root: 'rm -f uid.txt; id -u > uid.txt',
  tools: 'for t in busybox chroot mount findmnt unshare nsenter getfattr btrfs ip iptables systemd-nspawn; do command -v $t; done > tools.txt',
};

// the store's databases go with the file
afterAll(() => sqlite?.cleanup());

describe.runIf(sqlite)('the drill round through the HTTP API', () => {
  let t: TestServer;
  afterAll(async () => {
    await t?.close();
  });

  it('only the instructor starts a round, of a chapter the class serves; a drilled report is checked like any other', async () => {
    if (!sqlite) return;
    t = await inProcess(sqlite);
    const ada = await joinAs(t.origin, t.joinCode, 'ada');
    const start = (token: string, body: unknown) => fetch(`${t.origin}/api/drill-round`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    expect((await start(ada, { chapter: 'preflight' })).status, 'a learner').toBe(401);
    expect((await start(t.token, { chapter: 'nosuch' })).status).toBe(422);
    expect((await start(t.token, { chapter: 'preflight', drills: 6 })).status).toBe(400);
    expect((await start(t.token, { chapter: 'preflight', seed: 1 })).status, 'the server draws the seed').toBe(400);
    const ok = await start(t.token, { chapter: 'preflight' });
    expect(ok.status).toBe(201);
    const { eventId } = (await ok.json()) as { eventId: number };
    const drill = { mutant: 'wrongAnswer', state: 'started', ms: 0, round: eventId } as const;
    expect((await post(t.origin, ada, report({ kind: 'drilled', rows: [] }))).status, 'drilled without its drill').toBe(422);
    expect((await post(t.origin, ada, report({ drill }))).status, 'a drill on another kind').toBe(422);
    expect((await post(t.origin, ada, report({ kind: 'drilled', rows: [], drill: { ...drill, mutant: '<b>x</b>' } }))).status).toBe(400);
    expect((await post(t.origin, ada, report({ kind: 'drilled', rows: [], drill: { ...drill, ms: -1 } }))).status).toBe(400);
    expect((await post(t.origin, ada, report({ kind: 'drilled', step: 'preflight/nosuch', rows: [], drill }))).status).toBe(422);
    expect((await post(t.origin, ada, report({ kind: 'drilled', rows: [], drill }))).status).toBe(201);
  });
});

describe.runIf(run)('the class drill round, with real learners, in chromium', () => {
  let server: ServeProcess;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'ws-chromium-'));
  const homes = { ada: mkdtempSync(join(tmpdir(), 'ws-drill-ada-')), bob: mkdtempSync(join(tmpdir(), 'ws-drill-bob-')) };
  const problems: string[] = [];
  const as = (name: keyof typeof homes) => ({
    ...learnerHome(homes[name]),
    active: () => (JSON.parse(readFileSync(join(homes[name], 'drills.json'), 'utf8')) as DrillBook).active,
    fix: async (step: string) => {
      const r = await sh(join(homes[name], 'chapters', 'preflight'), FIX[step] ?? 'false');
      expect(r.code, r.stderr).toBe(0);
    },
  });

  beforeAll(async () => {
    if (!sqlite) return;
    server = await serveProcess(await sqlite.freshDb());
    ({ context, page } = await chromiumPage(profile, problems));
  });

  afterAll(async () => {
    await context?.close();
    for (const h of Object.values(homes)) {
      await workshop(h, ['clean', '--allow-host']);
      killSender(h);
    }
    await server?.stop();
    for (const d of [profile, ...Object.values(homes)]) rmSync(d, { recursive: true, force: true });
  });

  it('a round started from the dashboard reaches two learners; each fixes their drills; the dashboard shows who fixed what', { timeout: 300_000 }, async () => {
    await page.goto(`${server.origin}/?token=${server.token}`);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    const learners = [as('ada'), as('bob')] as const;
    for (const [n, l] of [['ada', learners[0]], ['bob', learners[1]]] as const) {
      await l.run('classroom', 'join', server.origin, server.joinCode, '--name', n);
      // at work on the chapter: the report starts the learner's sender, which then polls the inbox
      await l.run('next');
    }
    expect(await learners[0].status()).not.toContain('break-it round');

    // the instructor starts a round of 2 preflight drills from the page
    await page.selectOption('#drill-chapter', 'preflight');
    await page.fill('#drill-count', '2');
    page.once('dialog', (d) => void d.accept());
    await page.click('#drill-start');
    await page.locator('#drill-state', { hasText: 'Round on preflight (2 drills)' }).waitFor();

    for (const l of learners) {
      // the learner's next command offers it, once its sender has fetched the inbox
      await expect.poll(() => l.status(), { timeout: 20_000 }).toContain('break-it round on preflight (2 drill(s)): `workshop drill --class` starts it');
      const started = await l.run('drill', '--class', '--yes', '--allow-host');
      expect(started.code, started.stdout + started.stderr).toBe(0);
      expect(started.stdout).toMatch(/Drill on preflight\/\w+ \(round: drill 1 of 2\)/);
      expect(await l.status(), 'the round is not offered again once started').not.toContain('`workshop drill --class` starts it');
    }
    // one seed for the room: both meet the same first near-miss
    expect(learners[1].active()?.mutant).toBe(learners[0].active()?.mutant);

    for (const l of learners) {
      for (let i = 0; i < 2; i++) {
        const step = l.active()?.step ?? '?';
        const failing = await l.run('next');
        expect(failing.code, failing.stdout).toBe(1);
        await l.fix(step);
        const passed = await l.run('next');
        expect(passed.code, passed.stdout + passed.stderr).toBe(0);
        expect(passed.stdout).toMatch(/✔ drill passed: preflight\//);
      }
    }
    const last = await learners[1].run('status');
    expect(last.stdout).not.toContain('Drill:');

    // the dashboard: both learners, two drills each, fixed, with the time it took
    for (const name of ['ada', 'bob']) {
      const row = page.locator(`#drills tr[data-learner="${name}"]`);
      await expect.poll(() => row.locator('td.fixed').count(), { timeout: 20_000 }).toBe(2);
      expect(await row.locator('td.fixed').first().textContent()).toMatch(/^✔ fixed in \d+s$/);
    }
    expect(await page.locator('#drill-state').textContent()).toMatch(/2 learner\(s\) on it, 2 fixed every drill/);
    // the instructor's terminal says the same as the panel, with each learner's drills
    const status = await workshop(homes.ada, ['classroom', 'status', '--url', `${server.origin}/?token=${server.token}`]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^Break-it round on preflight \(2 drill\(s\)\), started \d+s ago: 2 learner\(s\) on it, 2 fixed every drill\.$/m);
    for (const name of ['ada', 'bob']) expect(status.stdout).toMatch(new RegExp(`^  ${name}: preflight/\\w+ \\([^)]+\\) fixed in \\d+s; preflight/\\w+ \\([^)]+\\) fixed in \\d+s$`, 'm'));
    const axe = await axeCheck(page, 'the dashboard with a drill round');
    expect(axe.bad).toEqual([]);
    expect(axe.all).toBe(0);

    // the grading export: a row per learner × drill, fixed, with its seconds and the round
    const csv = await (await fetch(`${server.origin}/api/grades.csv`, { headers: { authorization: `Bearer ${server.token}` } })).text();
    const drillRows = csv.split('\r\n').filter((r) => /^(ada|bob),drill,/.test(r));
    expect(drillRows).toHaveLength(4);
    for (const r of drillRows) expect(r).toMatch(/,fixed,\d+,\d+$/);
    expect(problems).toEqual([]);
  });

  it('`workshop classroom drill`: help, clear errors, and a round from the terminal', async () => {
    const url = ['--url', `${server.origin}/?token=${server.token}`];
    const help = await workshop(homes.ada, ['classroom', 'drill', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('classroom drill CHAPTER [--drills N]');
    for (const [args, message] of [
      [['classroom', 'drill', ...url], /usage: workshop classroom drill CHAPTER/],
      [['classroom', 'drill', 'nosuch', ...url], /unknown chapter "nosuch"/],
      [['classroom', 'drill', 'preflight', '--drills', '9', ...url], /--drills 9: a whole number from 1 to 5/],
      [['classroom', 'drill', 'preflight', '--url', server.origin, '--token', 'wrong'], /refused the instructor token/],
    ] as const) {
      const r = await workshop(homes.ada, args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const ok = await workshop(homes.ada, ['classroom', 'drill', 'preflight', '--drills', '1', ...url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Started a break-it round on preflight (1 drill(s)');
    await expect.poll(() => as('bob').status(), { timeout: 20_000 }).toContain('break-it round on preflight (1 drill(s))');
    const none = await workshop(homes.ada, ['drill', '--class', '--round', 'preflight', '--allow-host']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--class takes the chapter and the seed from the instructor's round/);
  });
});
