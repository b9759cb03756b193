// The instructor acts (issue 22), with real `workshop` learners and the dashboard in chromium:
// a message to a failing group reaches exactly those learners' status, a hand goes up and drops
// when answered, a hold stops a learner's `next` at the step and `release` frees it; axe-core on
// the page with all of it shown. And through the HTTP API on each store: who a message goes to,
// the hold, the inbox a learner's sender fetches, and that only the instructor may act.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClassResponse, Inbox } from '../../src/classroom/contract.ts';
import { isRoot, REPO, sh, workshop } from '../helpers/workshop.ts';
import { axeCheck, CHROMIUM, chromiumPage, getJson, inProcess, joinAs, killSender, learnerHome, PACK, post, report, serveProcess, type ServeProcess, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

const STEP = PACK.steps[0]?.id ?? 'preflight/vm';
const STEP2 = PACK.steps[1]?.id ?? 'preflight/root';

const send = async (origin: string, token: string | undefined, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe.each(STORES)('the instructor acts on $name', (factory) => {
  let t: TestServer;
  // the store's databases (for PostgreSQL, its throwaway server) go with the suite
  afterAll(() => factory.cleanup());
  afterEach(async () => {
    await t?.close();
  });

  it('messages the members of a failing group only, holds and releases, and gives each learner their inbox', async () => {
    t = await inProcess(factory);
    const tok: Record<string, string> = {};
    for (const n of ['ada', 'bob', 'cy']) tok[n] = await joinAs(t.origin, t.joinCode, n);
    const failing = (check: string) => [{ check, status: 'fail' as const, expected: 'x', actual: 'y', hint: '' }];
    await post(t.origin, tok['ada'], report({ rows: failing('vm.txt holds "8f3a2b1c9d0e"') }));
    await post(t.origin, tok['bob'], report({ rows: failing('vm.txt holds "0b1c2d3e4f5a"') }));
    await post(t.origin, tok['cy'], report({ rows: failing('something else') }));
    // only the instructor acts
    expect((await send(t.origin, tok['ada'], '/api/messages', { to: { all: true }, text: 'hi' })).status).toBe(401);
    expect((await send(t.origin, undefined, '/api/hold', { step: STEP })).status).toBe(401);
    const inbox = (name: string) => getJson<Inbox>(t.origin, '/api/inbox', tok[name] ?? '');
    let sent = { status: 0, body: {} as Record<string, unknown> };
    // the model follows the store's events: wait until it has the three reports
    for (let i = 0; i < 50 && sent.status !== 201; i++) sent = await send(t.origin, t.token, '/api/messages', { to: { step: STEP, check: 'vm.txt holds' }, text: 'look at the board' });
    expect(sent.body['to']).toEqual(['ada', 'bob']);
    expect((await send(t.origin, t.token, '/api/messages', { to: { name: 'nobody' }, text: 'x' })).status).toBe(404);
    expect((await send(t.origin, t.token, '/api/messages', { to: { all: true }, text: 'x'.repeat(1001) })).status).toBe(400);
    expect((await send(t.origin, t.token, '/api/hold', { step: 'no/such' })).status).toBe(422);
    expect((await send(t.origin, t.token, '/api/hold', { step: STEP2 })).status).toBe(201);
    await expect.poll(async () => (await inbox('ada')).hold).toBe(STEP2);
    expect((await inbox('ada')).messages.map((m) => m.text)).toEqual(['look at the board']);
    expect((await inbox('cy')).messages).toEqual([]);
    // a hand: up with the question, down when the instructor answers that learner
    expect((await post(t.origin, tok['cy'], report({ kind: 'asked', question: 'why?', outcome: null, rows: [] }))).status).toBe(201);
    expect((await post(t.origin, tok['cy'], report({ kind: 'attempted' }))).status).toBe(201); // a question only on asked
    expect((await post(t.origin, tok['cy'], { ...report({ kind: 'attempted' }), question: 'x' })).status).toBe(422);
    await expect.poll(async () => (await getJson<ClassResponse>(t.origin, '/api/class', t.token)).hands.length).toBe(1);
    const v = await getJson<ClassResponse>(t.origin, '/api/class', t.token);
    expect(v.learners.find((l) => l.id === v.hands[0])?.hand?.question).toBe('why?');
    expect((await inbox('cy')).hand).toBe(true);
    expect((await send(t.origin, t.token, '/api/messages', { to: { name: 'cy' }, text: 'because' })).status).toBe(201);
    await expect.poll(async () => (await getJson<ClassResponse>(t.origin, '/api/class', t.token)).hands).toEqual([]);
    expect((await send(t.origin, t.token, '/api/release', {})).status).toBe(201);
    await expect.poll(async () => (await inbox('cy')).hold).toBe(null);
    const after = await getJson<ClassResponse>(t.origin, '/api/class', t.token);
    expect(after.messages.map((m) => [m.label, m.to])).toEqual([
      [expect.stringMatching(/^failing preflight\/vm: vm.txt holds/), ['ada', 'bob']],
      ['cy', ['cy']],
    ]);
  });
});

const sqlite = STORES.find((s) => s.name === 'sqlite');
const run = isRoot && sqlite !== undefined && (existsSync(CHROMIUM) || process.env['CI'] === 'true');

describe.runIf(run)('the instructor acts, with real learners, in chromium', () => {
  let server: ServeProcess;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'ws-chromium-'));
  const homes = { ada: mkdtempSync(join(tmpdir(), 'ws-ada-')), bob: mkdtempSync(join(tmpdir(), 'ws-bob-')), cy: mkdtempSync(join(tmpdir(), 'ws-cy-')) };
  const problems: string[] = [];
  const as = (name: keyof typeof homes) => ({
    ...learnerHome(homes[name]),
    sh: async (script: string) => expect((await sh(join(homes[name], 'chapters', 'preflight'), script)).code).toBe(0),
  });

  beforeAll(async () => {
    if (!sqlite) return;
    server = await serveProcess(await sqlite.freshDb());
    ({ context, page } = await chromiumPage(profile, problems));
  });

  afterAll(async () => {
    await context?.close();
    for (const h of Object.values(homes)) killSender(h);
    await server?.stop();
    for (const d of [profile, ...Object.values(homes)]) rmSync(d, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  it('messages a failing group, answers a hand, holds a step and releases it', { timeout: 180_000 }, async () => {
    await page.goto(`${server.origin}/?token=${server.token}`);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    const [ada, bob, cy] = [as('ada'), as('bob'), as('cy')];
    for (const [n, l] of [['ada', ada], ['bob', bob], ['cy', cy]] as const) await l.run('classroom', 'join', server.origin, server.joinCode, '--name', n);
    // ada and bob fail the first step; cy passes it and fails the second
    await ada.run('next');
    await bob.run('next');
    await cy.run('next');
    await cy.sh('systemd-detect-virt --vm > vm.txt || true');
    await cy.run('next');
    await cy.run('next');
    const group = page.locator('#message-to option', { hasText: `failing ${STEP}` }).first();
    await expect.poll(() => group.textContent(), { timeout: 15_000 }).toMatch(/\(2\)$/);

    // a message to the failing group, from the page: ada's and bob's status show it, cy's not
    await page.selectOption('#message-to', { label: (await group.textContent()) ?? '' });
    await page.fill('#message-text', 'Look at the board: vm.txt');
    await page.click('#message-send');
    await page.locator('#message-said', { hasText: 'Sent to ada, bob.' }).waitFor();
    for (const l of [ada, bob]) await expect.poll(() => l.status(), { timeout: 15_000 }).toContain('message from the instructor');
    expect(await ada.status()).toContain('Look at the board: vm.txt');
    expect(await cy.status()).not.toContain('message from the instructor');

    // cy raises a hand; the instructor answers from the page; the hand drops
    await cy.run('ask', 'what goes in uid.txt?');
    const hand = page.locator('#hands li[data-learner="cy"]');
    await hand.waitFor({ timeout: 15_000 });
    expect(await hand.textContent()).toContain('what goes in uid.txt?');
    await expect.poll(() => cy.status(), { timeout: 15_000 }).toContain('your hand is up');
    await hand.locator('button.answer').click();
    await page.fill('#message-text', 'your user id: id -u');
    await page.click('#message-send');
    await hand.waitFor({ state: 'detached' });
    await expect.poll(() => cy.status(), { timeout: 15_000 }).toContain('your user id: id -u');
    expect(await cy.status()).not.toContain('your hand is up');

    // hold at the first step from the page: ada passes it, and stays
    await page.selectOption('#hold-step', STEP);
    await page.click('#hold');
    await page.locator('#hold-state', { hasText: `The class waits at ${STEP}` }).waitFor();
    await expect.poll(() => ada.status(), { timeout: 15_000 }).toContain(`the instructor asked the class to wait at ${STEP}`);
    await ada.sh('systemd-detect-virt --vm > vm.txt || true');
    const held = await ada.run('next');
    expect(held.code).toBe(0);
    expect(held.stdout).toContain(`${STEP} passes.`);
    expect(held.stdout).toContain(`the instructor asked the class to wait at ${STEP}`);
    expect(await ada.status()).toContain(`(${STEP})`);
    // solve would move her past the hold: refused, with what she can do meanwhile
    const solve = await workshop(homes.ada, ['solve', '--allow-host']);
    expect(solve.code, solve.stderr).toBe(2);
    expect(solve.stderr).toContain(`the instructor asked the class to wait at ${STEP}: \`workshop solve\` would move you past it`);
    // axe-core with hands, messages and the hold on the page
    expect((await axeCheck(page, 'the dashboard with the acts')).bad).toEqual([]);
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-results', 'classroom-acts.png'), fullPage: true });

    // release from the instructor's terminal: ada's next moves on
    const released = await workshop(homes.ada, ['classroom', 'release', '--url', `${server.origin}/?token=${server.token}`]);
    expect(released.code, released.stderr).toBe(0);
    await expect.poll(() => ada.status(), { timeout: 15_000 }).not.toContain('wait at');
    const moved = await ada.run('next');
    expect(moved.code).toBe(0);
    expect(await ada.status()).toContain(`(${STEP2})`);
    expect(problems).toEqual([]);
  });
});
