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
 * Pure: where the learner goes after passing `pos`: the first step after it that is not done
 * (later in its chapter, then in the next chapters), else the first one not done from the start
 * (a step skipped with goto), else undefined: every step is done. Chapters in `skipped` (this
 * machine cannot run them) are passed over; `pos` itself counts as done.
 */
export function nextToDo(chapters: readonly ChapterEntry[], pos: Position, done: (chapter: string, step: string) => boolean, skipped: ReadonlyMap<string, string>): Position | undefined {
  const all = chapters.filter((c) => !skipped.has(c.id) || c === pos.chapter).flatMap((chapter) => stepIds(chapter).map((step, index) => ({ chapter, step, index })));
  const at = all.findIndex((p) => p.chapter === pos.chapter && p.step === pos.step);
  const order = [...all.slice(at + 1), ...all.slice(0, Math.max(at, 0))];
  return order.find((p) => !(p.chapter === pos.chapter && p.step === pos.step) && !skipped.has(p.chapter.id) && !done(p.chapter.id, p.step));
}
