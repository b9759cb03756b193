// `workshop drill` through the built CLI, as root, on chroot (fast here): the drill rebuilds the
// step and breaks it unnamed, `next` fails with the table, hints come from the diagnosis, the
// learner's own fix passes the drill, and the chapter's progress is exactly as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillBook } from '../../src/engine/drill-record.ts';
import { isRoot, openWorkshop, type Workshop } from '../helpers/workshop.ts';

let ws: Workshop;
beforeAll(async () => {
  ws = await openWorkshop('/tmp/ws-it-drill-', { allowHost: true });
});
afterAll(async () => {
  await ws.dispose();
});

const book = (): DrillBook => JSON.parse(readFileSync(join(ws.home, 'drills.json'), 'utf8')) as DrillBook;
/** The chapter's progress as state.json has it: what a drill must never change. */
const progress = (): unknown => {
  const s = JSON.parse(readFileSync(join(ws.home, 'state.json'), 'utf8')) as { current: unknown; chapters: Record<string, unknown> };
  return { current: s.current, chapters: s.chapters };
};

describe.skipIf(!isRoot)('workshop drill', () => {
  it('chroot/busybox: drill, next fails with the table, two hints, the fix, next passes the drill, progress unchanged', async () => {
    expect((await ws.cli(['goto', 'chroot'])).code).toBe(0);
    const solved = await ws.cli(['solve']);
    expect(solved.code, solved.stderr).toBe(0);
    const before = progress();

    const refused = await ws.cli(['drill', 'chroot/busybox']);
    expect(refused.code, 'no terminal and no --yes').toBe(2);
    expect(refused.stderr).toMatch(/It removes:/);

    const t0 = performance.now();
    const started = await ws.cli(['drill', 'chroot/busybox', '--seed', '1', '--yes']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const startMs = performance.now() - t0;
    const { active } = book();
    expect(active).toMatchObject({ chapter: 'chroot', step: 'busybox', seed: 1, attempts: 0, hintsShown: 0 });
    // the near-miss is not named
    expect(started.stdout + started.stderr).not.toContain(active?.mutant ?? '?');
    expect(started.stdout).toMatch(/Drill on chroot\/busybox/);

    const failing = await ws.cli(['next']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/✘ drill chroot\/busybox: something is still wrong/);
    expect(failing.stdout).toMatch(/checks passed/);
    const json = JSON.parse((await ws.cli(['--json', 'next'])).stdout) as { passed: boolean; attempts: number };
    expect(json).toMatchObject({ passed: false, attempts: 2 });

    const h1 = await ws.cli(['hint']);
    expect(h1.stdout).toMatch(/Drill hint 1\/3:\s+Area: /);
    const h2 = await ws.cli(['hint']);
    expect(h2.stdout).toMatch(/Drill hint 2\/3:\s+Check: "[^"]+"\s+fails/);

    const solve = await ws.cli(['solve']);
    expect(solve.code, 'solve would pass the chapter\'s steps').toBe(2);
    expect(solve.stderr).toMatch(/a drill is on \(chroot\/busybox\)/);

    // the learner's fix: the step's own commands, typed again
    const fix = await ws.shell('chroot', 'cp /bin/busybox rootfs/bin/busybox && chmod +x rootfs/bin/busybox');
    expect(fix.code, fix.stderr).toBe(0);
    const passed = await ws.cli(['next']);
    expect(passed.code, passed.stdout).toBe(0);
    expect(passed.stdout).toMatch(/✔ drill passed: chroot\/busybox: fixed in \d+s, 2 failed next, 2 hint\(s\)/);

    expect(book()).toMatchObject({ active: null, history: [{ step: 'busybox', mutant: active?.mutant, outcome: 'fixed', attempts: 2, hints: 2 }] });
    expect(progress()).toEqual(before);
    console.log(`drill start on chroot/busybox: ${Math.round(startMs)} ms`);
  });

  it('--give-up shows the answer and its diagnosis, repairs the step, and leaves progress as it was', async () => {
    const before = progress();
    expect((await ws.cli(['drill', 'chroot/symlinks', '--seed', '5', '--yes'])).code).toBe(0);
    const mutant = book().active?.mutant ?? '?';
    const again = await ws.cli(['drill', 'chroot']);
    expect(again.code, 'one drill at a time').toBe(2);
    const r = await ws.cli(['drill', '--give-up']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`The near-miss: ${mutant} (chroot/symlinks)`);
    expect(r.stdout).toMatch(/The diagnosis `workshop test` proves for it: the\s+failure\s+matches\s+\//);
    expect(r.stdout).toMatch(/✔ the step's own solution repaired it/);
    expect(book().history.at(-1)).toMatchObject({ step: 'symlinks', mutant, outcome: 'gave-up' });
    expect((await ws.cli(['check', 'chroot/symlinks'])).code).toBe(0);
    expect(progress()).toEqual(before);
  });

  it('--round: drills in a row, each started when the one before ends, then the summary', async () => {
    const before = progress();
    const r = await ws.cli(['drill', '--round', 'chroot', '--seed', '3', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Drill on chroot\/[a-z-]+ \(round: drill 1 of 5\)/);
    const outs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const g = await ws.cli(['drill', '--give-up']);
      expect(g.code, g.stdout + g.stderr).toBe(0);
      outs.push(g.stdout);
    }
    expect(outs[0]).toMatch(/Next drill of the round \(2 of 5\)/);
    expect(outs[4]).toMatch(/Round over: 0 of 5 fixed\.[\s\S]*Worth another look \(hints or the answer\): chroot\//);
    const b = book();
    expect({ active: b.active, round: b.round }).toEqual({ active: null, round: null });
    const round = b.history.slice(-5);
    expect(new Set(round.map((d) => `${d.step}/${d.mutant}`)).size).toBe(5);
    expect(new Set(round.map((d) => d.round)).size).toBe(1);
    expect(progress()).toEqual(before);
  });
  it('goto --restore, reset and clean say that the drill ends unfinished, end it with its round, and keep the progress', async () => {
    /** every step done: what none of these commands may lose */
    const steps = (): string[] => {
      const s = JSON.parse(readFileSync(join(ws.home, 'state.json'), 'utf8')) as { chapters: Record<string, { steps: Record<string, { done?: unknown }> }> };
      return Object.entries(s.chapters).flatMap(([c, ch]) => Object.entries(ch.steps).flatMap(([id, st]) => (st.done === undefined ? [] : [`${c}/${id}`])));
    };
    const start = async (args: string[]) => {
      const r = await ws.cli(['drill', ...args, '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    };
    const ended = (how: RegExp, out: string) => {
      expect(out).toMatch(how);
      expect(out).toMatch(/The drill on chroot\/busybox ended unfinished/);
      expect(book().active).toBeNull();
      expect(book().history.at(-1)).toMatchObject({ step: 'busybox', outcome: 'abandoned' });
    };
    const before = steps();

    await start(['--round', 'chroot', '--seed', '1']);
    const first = book().active?.step ?? '?';
    const restore = await ws.cli(['goto', `chroot/${first}`, '--restore', '--yes']);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(restore.stderr.replace(/\s+/g, ' ')).toMatch(new RegExp(`A drill is on \\(chroot/${first}\\): \`workshop goto --restore\` removes what it broke, so the drill ends unfinished \\(kept in drills.json as stopped, and its round ends\\)\\. Your progress in the chapters is kept`));
    expect(book()).toMatchObject({ active: null, round: null });
    expect(book().history.at(-1)).toMatchObject({ step: first, outcome: 'abandoned' });
    // a restore marks the steps it replays as solved, as it always does; it undoes none
    expect(steps(), 'goto --restore keeps the progress').toEqual(expect.arrayContaining(before));

    // another chapter's reset leaves the drill alone, and says nothing of it
    await start(['chroot/busybox', '--seed', '1']);
    const other = await ws.cli(['reset', 'preflight', '--yes']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).not.toContain('A drill is on');
    expect(book().active).toMatchObject({ step: 'busybox' });

    const beforeClean = steps();
    const clean = await ws.cli(['clean']);
    ended(/A drill is on \(chroot\/busybox\): `workshop clean` removes what it broke/, clean.stderr);
    expect(clean.stdout).toMatch(/progress kept/);
    expect(steps(), 'clean keeps the progress').toEqual(beforeClean);

    await start(['chroot/busybox', '--seed', '1']);
    const reset = await ws.cli(['reset', 'chroot', '--yes']);
    expect(reset.code, reset.stderr).toBe(0);
    ended(/A drill is on \(chroot\/busybox\): `workshop reset chroot` removes what it broke[\s\S]*The drill did not change your progress/, reset.stderr);
  });
});
