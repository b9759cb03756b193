// Moving through the workshop: starting a chapter (its nonce and setup), recording a pass,
// advancing past chapters this machine cannot run.
import type { CheckResult } from '../checks/check.ts';
import { requireVm } from '../engine/guard.ts';
import { stepProgress } from '../engine/progress.ts';
import { describeFailure, setupChapter, verifyStep } from '../engine/runner.ts';
import { WorkshopError } from '../errors.ts';
import { stepIds, type ChapterEntry } from '../lessons/catalog.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { unmet } from '../lessons/requires.ts';
import type { ChapterPlace } from '../engine/context.ts';
import { chapterProgress, load, place, type Position, type Session } from './session.ts';

export interface Started {
  loaded: LoadedChapter;
  place: ChapterPlace;
}

/** Loads a chapter and starts it if needed: a nonce, its folder, and its setup (which needs the VM guard). */
export async function startChapter(s: Session, entry: ChapterEntry): Promise<Started> {
  const loaded = await load(entry);
  const { progress, created } = chapterProgress(s, entry.id);
  const p = place(s, entry.id, progress);
  if (created) {
    if (loaded.def.setup) await requireVm(s.cli.allowHost, `set up chapter ${entry.id}`);
    try {
      await setupChapter(loaded, p, (l) => s.cli.err(l), !s.cli.json);
    } catch (err) {
      delete s.state.chapters[entry.id];
      throw new WorkshopError('environment', `the setup of chapter ${entry.id} failed: ${describeFailure(err)}`, 'run `workshop doctor` to see what this machine is missing');
    }
    s.save();
  }
  return { loaded, place: p };
}

export async function verifyAt(s: Session, pos: Position): Promise<{ started: Started; results: CheckResult[] }> {
  const started = await startChapter(s, pos.chapter);
  const results = await verifyStep(started.loaded, pos.step, started.place, (l) => s.cli.err(l));
  return { started, results };
}

export function markDone(s: Session, pos: Position, by: 'learner' | 'solve'): void {
  const sp = stepProgress(s.state, pos.chapter.id, pos.step);
  sp.done = { at: new Date().toISOString(), by };
}

/**
 * The step after `pos`: the next one in the chapter, or the first step of the next chapter this
 * machine can run. Chapters with unmet requirements are passed over, with the reason.
 */
export async function nextPosition(s: Session, pos: Position, onSkip: (chapter: string, reason: string) => void): Promise<Position | undefined> {
  const ids = stepIds(pos.chapter);
  const within = ids[pos.index + 1];
  if (within !== undefined) return { chapter: pos.chapter, step: within, index: pos.index + 1 };
  const chapters = s.cat.chapters;
  for (let i = chapters.indexOf(pos.chapter) + 1; i < chapters.length; i++) {
    const c = chapters[i];
    const first = c ? stepIds(c)[0] : undefined;
    if (!c || first === undefined) continue;
    const reasons = await unmet((await load(c)).def.requires ?? []);
    if (reasons.length > 0) {
      onSkip(c.id, reasons.join('; '));
      continue;
    }
    return { chapter: c, step: first, index: 0 };
  }
  return undefined;
}

export function setCurrent(s: Session, pos: Position): void {
  s.state.current = { chapter: pos.chapter.id, step: pos.step };
}

/**
 * Makes `pos` the current step and starts its chapter if it has not started. The position is
 * saved first: a chapter setup that fails must not lose the step the learner just passed.
 */
export async function enter(s: Session, pos: Position): Promise<Started> {
  setCurrent(s, pos);
  s.save();
  return startChapter(s, pos.chapter);
}
