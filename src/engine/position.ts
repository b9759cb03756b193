// Where the learner is, from the lesson index and state.json alone: pure, and light enough for
// the quick `workshop status` (src/cli/quick.ts), which loads no engine.
import { stepIds, type ChapterEntry } from '../lessons/catalog.ts';
import { lessonError } from '../errors.ts';
import { isDone, type State } from './progress.ts';

export interface Position {
  chapter: ChapterEntry;
  step: string;
  /** 0-based index of the step within the chapter */
  index: number;
}

export const addressOf = (p: Position): string => `${p.chapter.id}/${p.step}`;

/** Pure: the current step, from the state if it still exists in this pack, else the first step not done. */
export function currentPosition(chapters: readonly ChapterEntry[], state: State): Position {
  const cur = state.current;
  if (cur) {
    const chapter = chapters.find((c) => c.id === cur.chapter);
    const index = chapter ? stepIds(chapter).indexOf(cur.step) : -1;
    if (chapter && index >= 0) return { chapter, step: cur.step, index };
  }
  let first: Position | undefined;
  for (const chapter of chapters) {
    for (const [index, step] of stepIds(chapter).entries()) {
      const p = { chapter, step, index };
      first ??= p;
      if (!isDone(state, chapter.id, step)) return p;
    }
  }
  if (!first) throw lessonError('the lesson pack has no steps');
  return first;
}

/**
 * Pure: the step after `pos`. The next step of its chapter, else the first step of the next
 * chapter that is not known to be skipped (`skipped` maps chapter id to the reason). Imports no
 * steps module: finding out whether a chapter can run is the caller's business.
 */
export function stepAfter(chapters: readonly ChapterEntry[], pos: Position, skipped: ReadonlyMap<string, string>): Position | undefined {
  const ids = stepIds(pos.chapter);
  const within = ids[pos.index + 1];
  if (within !== undefined) return { chapter: pos.chapter, step: within, index: pos.index + 1 };
  for (let i = chapters.indexOf(pos.chapter) + 1; i < chapters.length; i++) {
    const c = chapters[i];
    const first = c ? stepIds(c)[0] : undefined;
    if (c && first !== undefined && !skipped.has(c.id)) return { chapter: c, step: first, index: 0 };
  }
  return undefined;
}
