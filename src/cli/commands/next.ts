// `workshop next`: verify the current step; on pass record it and show the next step.
import { allPassed } from '../../checks/check.ts';
import { requireRoot } from '../../engine/guard.ts';
import { withLock } from '../../engine/lock.ts';
import { stepProgress } from '../../engine/progress.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { enter, markDone, nextPosition, verifyAt } from '../lifecycle.ts';
import { currentPosition, openSession } from '../session.ts';
import { printStep } from './show.ts';
import { renderMarkdown } from '../../render/markdown.ts';

export default async function next(cli: Cli): Promise<number> {
  requireRoot(cli.line);
  const s = openSession(cli);
  return withLock(s.ws.lockPath, 'next', async () => {
    const pos = currentPosition(s);
    const { results } = await verifyAt(s, pos);
    const sp = stepProgress(s.state, pos.chapter.id, pos.step);
    sp.attempts++;
    const passed = allPassed(results);
    const st = styler(cli.color);
    if (!passed) {
      s.save();
      if (cli.json) cli.emit({ step: `${pos.chapter.id}/${pos.step}`, passed, results, attempts: sp.attempts });
      else {
        cli.out(`${st('red', '✘')} ${pos.chapter.id}/${pos.step} is not done yet:\n`);
        cli.out(renderResults(results, cli.color));
        cli.out(`\nFix what is marked ✘ and run \`workshop next\` again. Stuck? \`workshop hint\` (${sp.hintsShown} shown so far).`);
      }
      return 1;
    }
    markDone(s, pos, 'learner');
    const skipped: Array<{ chapter: string; reason: string }> = [];
    const to = await nextPosition(s, pos, (chapter, reason) => skipped.push({ chapter, reason }));
    const closing = to?.chapter !== pos.chapter ? pos.chapter.text.closing : undefined;
    if (to) await enter(s, to);
    else s.save();
    if (cli.json) {
      cli.emit({ step: `${pos.chapter.id}/${pos.step}`, passed, results, attempts: sp.attempts, next: to ? `${to.chapter.id}/${to.step}` : null, skipped });
      return 0;
    }
    cli.out(renderResults(results, cli.color));
    cli.out(`\n${st('green', '✔')} ${pos.chapter.id}/${pos.step} passed.\n`);
    if (closing) cli.out(`${await renderMarkdown(`## ${closing.title}\n\n${closing.body}`, cli.color)}\n`);
    for (const k of skipped) cli.out(`Skipping chapter ${k.chapter}: ${k.reason}`);
    if (to) await printStep(s, to);
    else cli.out('That was the last step. Well done! `workshop clean` removes everything the workshop made.');
    return 0;
  });
}
