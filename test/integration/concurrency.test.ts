// Many commands at once against one WORKSHOP_HOME, the way a learner works with `watch --advance`
// in one pane and `next` and `hint` in another. No command may fail on the lock, and no progress
// that any command reported may be lost.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStart } from '../../src/sys/process.ts';
import { readState, validateState, type State } from '../../src/engine/progress.ts';
import { buildCli, isRoot, NODE, progressOf, REPO, spawnCollect, type Ran } from '../helpers/workshop.ts';

const PACK = join(REPO, 'test/fixtures/lessons/race');
const STEPS = ['one', 'two', 'three', 'four', 'five'];

let cliJs = '';
let dispose = async () => {};
beforeAll(async () => {
  ({ cliJs, dispose } = await buildCli());
});
afterAll(() => dispose());

const run = (home: string, args: readonly string[]): Promise<Ran> => spawnCollect(NODE, [cliJs, '--lessons', PACK, '--home', home, ...args], { timeoutMs: 60_000 });

/** state.json, valid, with the hint counts that `hint` keeps beside it (hints-shown.json) */
async function readStateFile(home: string): Promise<State> {
  const checked = validateState(JSON.parse(await readFile(progressOf(home, PACK).statePath, 'utf8')));
  if (!checked.ok) throw new Error(`state.json is not valid: ${checked.reason}`);
  expect(checked.dropped).toEqual([]);
  const { state, warnings } = readState(progressOf(home, PACK).statePath, false);
  expect(warnings).toEqual([]);
  return state;
}

describe.skipIf(!isRoot)('twenty mixed commands at once', () => {
  it.each(Array.from({ length: 10 }, (_, i) => i + 1))('lose nothing and never fail on the lock (trial %i)', async () => {
    const home = await mkdtemp('/tmp/ws-race-');
    try {
      const start = await run(home, ['--json', 'path']);
      expect(start.code, start.stderr).toBe(0);
      const dir = (JSON.parse(start.stdout) as { dir: string }).dir;
      // every step passes: each file is there
      await Promise.all(STEPS.map((s) => writeFile(join(dir, `${s}.txt`), '')));
      const commands: string[][] = [
        ...Array.from({ length: 7 }, () => ['--json', 'next']),
        ...Array.from({ length: 8 }, () => ['--json', 'hint']),
        ['--json', 'goto', 'race/two'],
        ['--json', 'goto', 'race/one'],
        ['--json', 'check'],
        ['--json', 'check', 'race/three'],
        ['--json', 'watch', '--advance', '--once'],
      ];
      expect(commands).toHaveLength(20);
      const results = await Promise.all(commands.map((c) => run(home, c)));
      const failures = results.map((r, i) => ({ r, c: commands[i]?.join(' ') })).filter(({ r }) => r.code !== 0);
      expect(failures.map(({ r, c }) => `${c}: exit ${r.code}: ${r.stderr}`)).toEqual([]);
      for (const r of results) expect(r.stderr).not.toMatch(/another workshop command|lock/);

      const state = await readStateFile(home);
      const steps = state.chapters['race']?.steps ?? {};
      // every step that any command reported as passed is done
      const passed = results.flatMap((r, i) => {
        const c = commands[i] ?? [];
        if (!c.includes('next') && !c.includes('watch')) return [];
        const line = r.stdout.trim().split('\n').at(-1) ?? '';
        const doc = JSON.parse(c.includes('watch') ? line : r.stdout) as { step: string; passed: boolean };
        return doc.passed ? [doc.step] : [];
      });
      expect(passed.length).toBeGreaterThan(0);
      for (const p of passed) expect(steps[p.split('/')[1] ?? '']?.done, `${p} was reported passed`).toBeDefined();
      // hint counts add up to the number of hint calls (each step has 60 hints, so none is capped)
      const hints = Object.values(steps).reduce((n, s) => n + s.hintsShown, 0);
      expect(hints).toBe(8);
      // attempts add up to the number of `next` calls
      expect(Object.values(steps).reduce((n, s) => n + s.attempts, 0)).toBe(7);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('takes over a stale lock whose PID now belongs to a live, unrelated process (pid 1)', async () => {
    const home = await mkdtemp('/tmp/ws-race-');
    try {
      await writeFile(join(home, 'lock'), JSON.stringify({ pid: 1, start: (processStart(1) ?? 0) + 4242, command: 'next', at: '2026-01-01T00:00:00.000Z' }));
      const t0 = Date.now();
      const r = await run(home, ['--json', 'hint']);
      expect(r.code, r.stderr).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.stderr).not.toContain('waiting for');
      expect((await readStateFile(home)).chapters['race']?.steps['one']?.hintsShown).toBe(1);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a second command waits for a live one and says whom it waits for', async () => {
    const home = await mkdtemp('/tmp/ws-race-');
    try {
      // a live workshop-like owner: this test process, with its real start time
      await writeFile(join(home, 'lock'), JSON.stringify({ pid: process.pid, start: processStart(process.pid), command: 'solve', at: 'x' }));
      const pending = run(home, ['hint']);
      await new Promise((r) => setTimeout(r, 1500));
      await rm(join(home, 'lock'));
      const r = await pending;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`waiting for workshop solve (pid ${process.pid})…`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
