// "A step that broke an earlier one": when the current step fails, the chapter's earlier steps
// that were done are verified again, and those that no longer hold are named. Most mysterious
// failures are one of those (the overlay of step 2 unmounted by a typo in step 4). A step that
// undoes an earlier one on purpose says so in `undoes`, so that it is not reported.
import { allPassed, type CheckResult } from '../checks/check.ts';
import { stepIds } from '../lessons/catalog.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import type { ChapterPlace } from './context.ts';
import type { Position } from './journey.ts';
import { verifyStep } from './runner.ts';

export interface NoLongerHolds {
  step: string;
  /** 1-based, as the learner counts */
  number: number;
  title: string;
  failing: CheckResult[];
}

/** The earlier steps to re-check: done, and not undone on purpose by a later step up to `pos`. Pure. */
export function stepsToRecheck(ch: LoadedChapter, pos: Position, isDone: (step: string) => boolean): string[] {
  const ids = stepIds(pos.chapter);
  const upTo = ids.slice(0, pos.index + 1);
  return ids.slice(0, pos.index).filter((id, i) => {
    if (!isDone(id)) return false;
    return !upTo.slice(i + 1).some((later) => {
      const u = ch.def.steps[later]?.undoes;
      return u === '*' || (u?.includes(id) ?? false);
    });
  });
}

/** Verifies them one at a time (some checks run the learner's scripts) and returns those that fail. */
export async function earlierStepsBroken(ch: LoadedChapter, place: ChapterPlace, pos: Position, isDone: (step: string) => boolean): Promise<NoLongerHolds[]> {
  const out: NoLongerHolds[] = [];
  const ids = stepIds(pos.chapter);
  for (const step of stepsToRecheck(ch, pos, isDone)) {
    const results = await verifyStep(ch, step, place);
    if (allPassed(results)) continue;
    const index = ids.indexOf(step);
    out.push({ step, number: index + 1, title: pos.chapter.text.steps[index]?.title ?? step, failing: results.filter((r) => r.status !== 'pass') });
  }
  return out;
}

/** `step 2 (mount) no longer holds: an overlay uses rootfs: no overlay uses rootfs`. Pure. */
export function describeBroken(b: NoLongerHolds): string {
  const first = b.failing[0];
  const why = first === undefined || first.status === 'pass' ? '' : first.status === 'fail' ? `${first.check}: ${first.actual}` : `${first.check}: ${first.error}`;
  const more = b.failing.length > 1 ? ` (and ${b.failing.length - 1} more)` : '';
  return `step ${b.number} (${b.step}) no longer holds: ${why}${more}`;
}
