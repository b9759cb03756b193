// `workshop` and `workshop status` without flags are answered before main.ts loads
// (src/cli/quick.ts). They must say exactly what the status command says, which any flag still
// reaches (`--home` with the same home), and hand anything unusual to it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, NODE, spawnCollect } from '../helpers/workshop.ts';

const HOOK = join(import.meta.dirname, '..', 'fixtures', 'record-loads.mjs');
const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What a run printed, and whether it loaded the engine (the chunk that holds main.ts). */
async function status(home: string, args: readonly string[], env: Record<string, string> = {}) {
  const log = join(tmp('ws-quick-log-'), 'log');
  const r = await spawnCollect(NODE, ['--import', HOOK, CLI, ...args], { env: { WORKSHOP_HOME: home, WORKSHOP_LOAD_LOG: log, NO_COLOR: '1', ...env } });
  const files = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:') && u.includes('/dist/'));
  const engine = files.some((u) => readFileSync(fileURLToPath(u), 'utf8').includes('\n// src/cli/main.ts\n'));
  return { out: { code: r.code, stdout: r.stdout, stderr: r.stderr }, engine };
}

const done = { at: '2026-12-01T10:00:00.000Z', by: 'learner' };
const states: Record<string, object | string | undefined> = {
  'a fresh home': undefined,
  'a step done, the learner on it': { formatVersion: 1, current: { chapter: 'chroot', step: 'busybox' }, chapters: { chroot: { nonce: '9ab06d93ef58', startedAt: 1, steps: { 'rootfs-dirs': { attempts: 2, hintsShown: 1, done }, busybox: { attempts: 1, hintsShown: 0, done } } } } },
  'no current step': { formatVersion: 1, current: null, chapters: { preflight: { nonce: '9ab06d93ef58', startedAt: 1, steps: { vm: { attempts: 1, hintsShown: 0, done } } } } },
  'a current step this pack does not have': { formatVersion: 1, current: { chapter: 'gone', step: 'away' }, chapters: {} },
};

describe('the quick workshop status', () => {
  it.each(Object.keys(states))('says what the status command says, for %s', async (name) => {
    const home = tmp('ws-quick-home-');
    const s = states[name];
    if (s !== undefined) writeFileSync(join(home, 'state.json'), JSON.stringify(s));
    const quick = await status(home, ['status']);
    const bare = await status(home, []);
    const full = await status(home, ['status', '--home', home]);
    expect(quick.out.code).toBe(0);
    expect(quick.out.stdout).toMatch(/^Chapter \d+: /);
    expect(quick.out).toEqual(full.out);
    expect(bare.out).toEqual(full.out);
    expect([quick.engine, bare.engine, full.engine]).toEqual([false, false, true]);
  });

  it('names the class, as the status command does', async () => {
    const home = tmp('ws-quick-class-');
    writeFileSync(join(home, 'classroom.json'), JSON.stringify({ url: 'http://127.0.0.1:47', name: 'ada', token: 'unreachable-token-of-32-chars-xx', joinedAt: '' }), { mode: 0o600 });
    const quick = await status(home, ['status']);
    const full = await status(home, ['status', '--home', home]);
    expect(quick.out.stdout).toContain('class: http://127.0.0.1:47');
    expect(quick.out).toEqual(full.out);
    expect(quick.engine).toBe(false);
  });

  it('hands a corrupt state.json to main.ts, which warns about it', async () => {
    const home = tmp('ws-quick-corrupt-');
    writeFileSync(join(home, 'state.json'), '{ not json');
    const quick = await status(home, ['status']);
    expect(quick.engine).toBe(true);
    expect(quick.out.code).toBe(0);
    expect(quick.out.stderr).toMatch(/corrupt/);
    expect(readFileSync(join(home, 'state.json'), 'utf8')).toBe('{ not json'); // read-only: nothing moved
  });

  it('hands an error to main.ts: an empty WORKSHOP_HOME is a usage error there', async () => {
    const quick = await status('', ['status']);
    expect(quick.engine).toBe(true);
    expect(quick.out.code).toBe(2);
    expect(quick.out.stderr).toMatch(/WORKSHOP_HOME is set but empty/);
  });

  it('colours on a terminal exactly when the status command does (NO_COLOR off, not a terminal here)', async () => {
    const home = tmp('ws-quick-color-');
    mkdirSync(join(home, 'x'));
    const quick = await status(home, ['status'], { NO_COLOR: '' });
    const full = await status(home, ['status', '--home', home], { NO_COLOR: '' });
    expect(quick.out).toEqual(full.out);
    expect(quick.out.stdout).not.toMatch(/\u001b\[/);
  });
});
