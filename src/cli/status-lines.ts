// What `workshop status` says, from the lesson index and the progress alone. Shared by the status
// command and the quick path (src/cli/quick.ts), so that the two cannot say different things.
import { inboxLines } from '../classroom/inbox.ts';
import { outboxLine, outboxStatus } from '../classroom/outbox.ts';
import { stepIds, type Catalog, type ChapterEntry } from '../lessons/catalog.ts';
import { openQuestionIn } from '../engine/answer-record.ts';
import { activeDrill } from '../engine/drill-record.ts';
import { currentPosition } from '../engine/position.ts';
import { isDone, type State } from '../engine/progress.ts';
import { progressBar, styler } from '../render/style.ts';

export interface StatusView {
  chapter: string;
  /** the chapter's own number, `03` */
  chapterNumber: string;
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
  /** the step's question not yet answered right (`workshop answer`) */
  question: string | null;
  /** the drill in progress, `chapter/step` */
  drill: string | null;
}

/** The open question of the current step and the drill in progress: neither may fail the status. */
function asides(pos: ReturnType<typeof currentPosition>, home: string): { question: string | null; drill: string | null } {
  let drill: string | null = null;
  try {
    const d = activeDrill(home);
    drill = d ? `${d.chapter}/${d.step}` : null;
  } catch {
    // an unreadable drills.json: `workshop drill` says so when it is used
  }
  return { question: openQuestionIn(pos.chapter.text.steps[pos.index]?.body ?? '', pos.chapter.id, home) ?? null, drill };
}

/** The chapter's own number, as its folder, `workshop list` and the README have it: 03 for 03-wafers. */
export const chapterNumber = (c: ChapterEntry): string => String(c.order).padStart(2, '0');

/** Where the learner is, as both the JSON view and the lines need it. */
function where(cat: Catalog, state: State) {
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
  return { pos, ids, done, total: all.length, stepDone, next };
}

export function statusView(cat: Catalog, state: State, home: string): StatusView {
  const { pos, ids, done, total, next } = where(cat, state);
  return {
    chapter: pos.chapter.id,
    chapterNumber: chapterNumber(pos.chapter),
    chapterTitle: pos.chapter.text.title,
    step: pos.step,
    stepTitle: pos.chapter.text.steps[pos.index]?.title ?? '',
    stepNumber: pos.index + 1,
    stepCount: ids.length,
    chapterDone: ids.filter((id) => isDone(state, pos.chapter.id, id)).length,
    done,
    total,
    current: `${pos.chapter.id}/${pos.step}`,
    next,
    class: outboxStatus(home) ?? null,
    ...asides(pos, home),
  };
}

/** The lines `workshop status` prints (the class line reads the outbox once, as outboxLine). */
export function statusLines(cat: Catalog, state: State, home: string, color: boolean): string[] {
  const { pos, ids, done, total, stepDone, next } = where(cat, state);
  const st = styler(color);
  const lines = [
    `${st('bold', `Chapter ${chapterNumber(pos.chapter)}: ${pos.chapter.text.title}`)} ${st('dim', `(${pos.chapter.id})`)}`,
    `Step ${pos.index + 1}/${ids.length}: ${pos.chapter.text.steps[pos.index]?.title ?? pos.step} ${st('dim', `(${pos.chapter.id}/${pos.step})`)}${stepDone ? st('green', ' ✔ done') : ''}`,
    `Progress ${progressBar(done, total)}`,
    `Next: ${next}`,
  ];
  const { question, drill } = asides(pos, home);
  if (question) lines.push(`Question: ${question} is open: \`workshop answer\` shows it (it never blocks \`next\` unless the step says so)`);
  if (drill) lines.push(st('yellow', `Drill: ${drill} is on: fix it and run \`workshop next\`, or \`workshop drill --give-up\``));
  const cls = outboxLine(home);
  if (cls) lines.push(st('dim', cls), ...inboxLines(home).map((l) => st('yellow', l)));
  return lines;
}
