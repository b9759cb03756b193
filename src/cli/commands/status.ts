// `workshop` / `workshop status`: where you are. It must be fast: no markdown, no steps module.
import { stepIds } from '../../lessons/catalog.ts';
import { isDone } from '../../engine/progress.ts';
import { progressBar, styler } from '../../render/style.ts';
import { outboxLine, outboxStatus } from '../../classroom/outbox.ts';
import type { Cli } from '../cli.ts';

export default async function status(cli: Cli): Promise<number> {
  const j = cli.journey();
  const pos = j.current();
  const all = j.cat.chapters.flatMap((c) => stepIds(c).map((id) => ({ c: c.id, id })));
  const done = all.filter((x) => isDone(j.state, x.c, x.id)).length;
  const ids = stepIds(pos.chapter);
  const chapterDone = ids.filter((id) => isDone(j.state, pos.chapter.id, id)).length;
  const step = pos.chapter.text.steps[pos.index];
  const stepDone = isDone(j.state, pos.chapter.id, pos.step);
  const finished = done === all.length;
  const next = finished
    ? 'every step is done: `workshop clean` removes what the workshop made'
    : stepDone
      ? 'this step is done: `workshop next` moves on'
      : 'read it with `workshop show`, do it, then `workshop next`';
  if (cli.json) {
    cli.emit({
      chapter: pos.chapter.id,
      chapterTitle: pos.chapter.text.title,
      step: pos.step,
      stepTitle: step?.title ?? '',
      stepNumber: pos.index + 1,
      stepCount: ids.length,
      chapterDone,
      done,
      total: all.length,
      current: `${pos.chapter.id}/${pos.step}`,
      next,
      class: outboxStatus(cli.home) ?? null,
    });
    return 0;
  }
  const st = styler(cli.color);
  const n = j.cat.chapters.indexOf(pos.chapter) + 1;
  cli.out(`${st('bold', `Chapter ${n}/${j.cat.chapters.length}: ${pos.chapter.text.title}`)} ${st('dim', `(${pos.chapter.id})`)}`);
  cli.out(`Step ${pos.index + 1}/${ids.length}: ${step?.title ?? pos.step} ${st('dim', `(${pos.chapter.id}/${pos.step})`)}${stepDone ? st('green', ' ✔ done') : ''}`);
  cli.out(`Progress ${progressBar(done, all.length)}`);
  cli.out(`Next: ${next}`);
  const cls = outboxLine(cli.home);
  if (cls) cli.out(st('dim', cls));
  return 0;
}
