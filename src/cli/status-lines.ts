// What `workshop status` says, from the lesson index and the progress alone. Shared by the status
// command and the quick path (src/cli/quick.ts), so that the two cannot say different things.
import { outboxLine, outboxStatus } from '../classroom/outbox.ts';
import { stepIds, type Catalog } from '../lessons/catalog.ts';
import { currentPosition } from '../engine/position.ts';
import { isDone, type State } from '../engine/progress.ts';
import { progressBar, styler } from '../render/style.ts';

export interface StatusView {
  chapter: string;
  chapterTitle: string;
  step: string;
  stepTitle: string;
  stepNumber: number;
  stepCount: number;
  chapterDone: number;
  done: number;
  total: number;
  current: string;
  next: string;
  class: ReturnType<typeof outboxStatus> | null;
}

export function statusView(cat: Catalog, state: State, home: string): StatusView {
  const pos = currentPosition(cat.chapters, state);
  const all = cat.chapters.flatMap((c) => stepIds(c).map((id) => ({ c: c.id, id })));
  const done = all.filter((x) => isDone(state, x.c, x.id)).length;
  const ids = stepIds(pos.chapter);
  const stepDone = isDone(state, pos.chapter.id, pos.step);
  const next =
    done === all.length
      ? 'every step is done: `workshop clean` removes what the workshop made'
      : stepDone
        ? 'this step is done: `workshop next` moves on'
        : 'read it with `workshop show`, do it, then `workshop next`';
  return {
    chapter: pos.chapter.id,
    chapterTitle: pos.chapter.text.title,
    step: pos.step,
    stepTitle: pos.chapter.text.steps[pos.index]?.title ?? '',
    stepNumber: pos.index + 1,
    stepCount: ids.length,
    chapterDone: ids.filter((id) => isDone(state, pos.chapter.id, id)).length,
    done,
    total: all.length,
    current: `${pos.chapter.id}/${pos.step}`,
    next,
    class: outboxStatus(home) ?? null,
  };
}

/** The lines `workshop status` prints. */
export function statusLines(cat: Catalog, state: State, home: string, color: boolean): string[] {
  const v = statusView(cat, state, home);
  const st = styler(color);
  const n = cat.chapters.findIndex((c) => c.id === v.chapter) + 1;
  const title = cat.chapters[n - 1]?.text.steps[v.stepNumber - 1]?.title ?? v.step;
  const stepDone = isDone(state, v.chapter, v.step);
  const lines = [
    `${st('bold', `Chapter ${n}/${cat.chapters.length}: ${v.chapterTitle}`)} ${st('dim', `(${v.chapter})`)}`,
    `Step ${v.stepNumber}/${v.stepCount}: ${title} ${st('dim', `(${v.current})`)}${stepDone ? st('green', ' ✔ done') : ''}`,
    `Progress ${progressBar(v.done, v.total)}`,
    `Next: ${v.next}`,
  ];
  const cls = outboxLine(home);
  if (cls) lines.push(st('dim', cls));
  return lines;
}
