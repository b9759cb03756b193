// `workshop next`'s use case decides what it checks (issue 28): a drill in progress first (its
// step, never the chapter's progress), then the instructor's hold, then the current step. The cli
// only renders the outcome (commands/next.ts), with no branch of its own on the drill.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DRILLS_FORMAT, type DrillBook } from '../../src/engine/drill-record.ts';
import { Journey } from '../../src/engine/journey.ts';
import { checkDrill } from '../../src/engine/drill.ts';
import { nextStep, type NextOutcome } from '../../src/engine/journey-steps.ts';

const GOOD = join(import.meta.dirname, '../fixtures/lessons/good');
const root = process.getuid?.() === 0;

describe.skipIf(!root)("next's outcome", () => {
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'ws-unit-next-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const open = () => Journey.open({ home, lessonsDir: GOOD, allowHost: true, command: 'next', log: () => {}, verbose: false });
  const next = (j: Journey, hold: string | null = null): Promise<NextOutcome> => nextStep(j, { hold, log: () => {}, announce: async () => {}, checkDrill: (d) => checkDrill(j, d) });
  const attempts = (): unknown => (JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { chapters: Record<string, { steps: Record<string, { attempts: number }> }> }).chapters['greeting']?.steps['greet']?.attempts ?? 0;

  it('is the drill while one is on: its step is checked, an attempt is the drill’s, progress is not touched', async () => {
    const j = open();
    await j.start(j.current().chapter);
    const book: DrillBook = {
      formatVersion: DRILLS_FORMAT,
      active: { chapter: 'greeting', step: 'greet', mutant: 'wrongWords', seed: 1, startedAt: Date.now(), attempts: 0, hints: ['area', 'check', 'fix'], hintsShown: 0, rows: '', diagnosis: '/x/' },
      round: null,
      history: [],
    };
    writeFileSync(join(home, 'drills.json'), JSON.stringify(book));
    const o = await next(j, 'greeting/greet');
    expect(o.in, 'the drill comes before the hold and the step').toBe('drill');
    if (o.in !== 'drill') return;
    expect(o.check.passed).toBe(false);
    expect(o.drill.step).toBe('greet');
    expect((JSON.parse(readFileSync(join(home, 'drills.json'), 'utf8')) as DrillBook).active?.attempts).toBe(1);
    expect(attempts()).toBe(0);
  });

  it('is the hold at the current step, unchecked and uncounted; else the step itself', async () => {
    const j = open();
    expect(await next(j, 'greeting/greet')).toEqual({ in: 'hold', step: 'greeting/greet' });
    const o = await next(j, 'greeting/freeze');
    expect(o).toMatchObject({ in: 'step', passed: false, address: 'greeting/greet', attempts: 1 });
  });
});
