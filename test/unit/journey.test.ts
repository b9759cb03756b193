import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JourneyEvent } from '../../src/engine/events.ts';
import { currentPosition, Journey, type Position } from '../../src/engine/journey.ts';
import { nextToDo } from '../../src/engine/position.ts';
import { ownerIsLive } from '../../src/sys/lock.ts';
import { emptyState } from '../../src/engine/progress.ts';
import { readCatalog } from '../../src/lessons/catalog.ts';

const RACE = join(import.meta.dirname, '../fixtures/lessons/race');
const GOOD = join(import.meta.dirname, '../fixtures/lessons/good');
const root = process.getuid?.() === 0;

describe('which step comes next (pure)', () => {
  // two chapters of the fixture packs side by side: greeting (2 steps) then race (5 steps)
  const chapters = [...readCatalog(GOOD).chapters, ...readCatalog(RACE).chapters.map((c) => ({ ...c, order: 2 }))];
  const [greeting, race] = chapters;
  if (!greeting || !race) throw new Error('fixture packs missing');
  const at = (chapter: typeof greeting, index: number): Position => ({ chapter, index, step: chapter.text.steps[index]?.id ?? '' });

  const none = (): boolean => false;
  it.each([
    ['the next step of the chapter', at(greeting, 0), new Map<string, string>(), none, 'greeting/freeze'],
    ['the first step of the next chapter', at(greeting, 1), new Map<string, string>(), none, 'race/one'],
    ['past a skipped chapter, to nothing', at(greeting, 1), new Map([['race', 'no device-mapper']]), (c: string) => c === 'greeting', null],
    // issue 21 item 15: a chapter done before is passed over, not started again at its first step
    ['past a chapter already done, to the first step not done', at(greeting, 1), new Map<string, string>(), (c: string, s: string) => c === 'race' && s !== 'four', 'race/four'],
    ['back to a step skipped with goto, after the last step', at(race, 4), new Map<string, string>(), (c: string, s: string) => !(c === 'greeting' && s === 'freeze'), 'greeting/freeze'],
    ['nothing when every step is done', at(race, 4), new Map<string, string>(), () => true, null],
  ])('%s', (_name, pos, skipped, done, want) => {
    const to = nextToDo(chapters, pos, done, skipped);
    expect(to ? `${to.chapter.id}/${to.step}` : null).toBe(want);
  });

  it('is on the first step not done when no step is current', () => {
    const s = emptyState();
    expect(currentPosition(chapters, s).step).toBe('greet');
    s.chapters['greeting'] = { nonce: 'abcd', startedAt: 1, steps: { greet: { attempts: 1, hintsShown: 0, done: { at: 'x', by: 'learner' } } } };
    expect(currentPosition(chapters, s).step).toBe('freeze');
  });

  it('keeps a current step that still exists, and forgets one that does not', () => {
    const s = emptyState();
    s.current = { chapter: 'race', step: 'three' };
    expect(currentPosition(chapters, s).step).toBe('three');
    s.current = { chapter: 'race', step: 'gone' };
    expect(currentPosition(chapters, s).step).toBe('greet');
  });
});

describe('a stale lock', () => {
  const probe = (live: boolean, start: number | null, cmd: string | null) => ({ alive: () => live, start: () => start, cmdline: () => cmd });
  it.each([
    ['a dead owner', { pid: 9, start: 5, command: 'next', at: '' }, probe(false, null, null), false],
    ['the same process', { pid: 9, start: 5, command: 'next', at: '' }, probe(true, 5, 'node dist/cli.js next'), true],
    ['a reused PID (another start time)', { pid: 1, start: 5, command: 'next', at: '' }, probe(true, 77, '/sbin/init'), false],
    ['an old lock whose PID is now another program', { pid: 1, start: null, command: 'next', at: '' }, probe(true, 77, '/sbin/init'), false],
    ['an old lock whose PID is still workshop', { pid: 9, start: null, command: 'next', at: '' }, probe(true, 77, 'node /usr/local/bin/workshop next'), true],
  ])('%s', (_name, owner, p, live) => {
    expect(ownerIsLive(owner, p)).toBe(live);
  });
});

describe.skipIf(!root)('the Journey', () => {
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'ws-unit-journey-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const open = () => Journey.open({ home, lessonsDir: RACE, allowHost: true, command: 'test', log: () => {}, verbose: false });

  it('emits typed events for every change, and writes each one to state.json', async () => {
    const j = open();
    const events: JourneyEvent[] = [];
    j.on((e) => void events.push(e));
    const pos = j.current();
    await j.recordAttempt(pos, [{ status: 'fail', check: 'one.txt exists', expected: 'a file', actual: 'nothing there' }]);
    await j.showHint(pos, 60);
    const moved = await j.pass(pos, 'learner');
    await j.settle();
    expect(events.map((e) => e.type)).toEqual(['started', 'attempted', 'hinted', 'passed']);
    expect(events[1]).toMatchObject({ type: 'attempted', step: 'race/one', command: 'next', status: 'fail', attempts: 1, hintsShown: 0 });
    expect(moved).toMatchObject({ advanced: true, skipped: [] });
    expect(moved.to?.step).toBe('two');
    const saved = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8'));
    expect(saved.current).toEqual({ chapter: 'race', step: 'two' });
    expect(saved.chapters.race.steps.one).toMatchObject({ attempts: 1, hintsShown: 1, done: { by: 'learner' } });
  });

  it('a pass that another command already advanced past leaves the learner where they are', async () => {
    const a = open();
    const b = open();
    const pos = a.current();
    await a.start(pos.chapter);
    await a.pass(pos, 'learner'); // now on two
    const late = await b.pass(pos, 'learner'); // b read the state before a's pass
    expect(late.advanced).toBe(false);
    expect(late.to?.step).toBe('two');
    expect(b.state.current).toEqual({ chapter: 'race', step: 'two' });
  });

  it('reset forgets the chapter and starts it again with a fresh nonce', async () => {
    const j = open();
    const { place } = await j.start(j.current().chapter);
    await j.pass(j.current(), 'solve');
    const first = await j.resetChapter(j.current().chapter);
    expect(first?.step).toBe('one');
    expect(j.place('race')?.nonce).not.toBe(place.nonce);
    expect(j.isDone({ ...j.current(), step: 'one' })).toBe(false);
  });
});
