// `workshop next`: verify the current step; on pass record it and show the next step.
import { allPassed } from '../../checks/check.ts';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { describeBroken, describeNotDone, earlierStepsBroken, earlierStepsNotDone, wrongFolder } from '../../engine/recheck.ts';
import { renderClosing } from '../../render/step.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import type { Cli } from '../cli.ts';
import { printStep, verifyAt } from '../verify.ts';
import { defineCommand } from '../command.ts';

async function next(cli: Cli): Promise<number> {
  const j = cli.journey();
  const pos = j.current();
  const address = `${pos.chapter.id}/${pos.step}`;
  const { results, started } = await verifyAt(j, pos, (l) => cli.err(l));
  const passed = allPassed(results);
  const st = styler(cli.color);
  if (!passed) {
    const sp = await j.recordAttempt(pos, results);
    // An earlier step that no longer holds explains most mysterious failures: name it.
    const done = (step: string) => j.isDone({ chapter: pos.chapter, step, index: 0 });
    const broken = await earlierStepsBroken(started.loaded, started.place, pos, done);
    // Steps skipped with goto that this one builds on: the rows alone would only repeat their symptom.
    const missing = await earlierStepsNotDone(started.loaded, started.place, pos, done);
    const catchUp = describeNotDone(pos.chapter.id, missing);
    const folder = wrongFolder(process.cwd(), homedir(), started.place.dir, results, existsSync);
    if (cli.json) cli.emit({ step: address, passed, results, attempts: sp.attempts, noLongerHold: broken.map((b) => ({ step: `${pos.chapter.id}/${b.step}`, failing: b.failing })), notDone: missing.map((m) => `${pos.chapter.id}/${m.step}`) });
    else {
      cli.out(`${st('red', '✘')} ${address} is not done yet:\n`);
      cli.out(renderResults(results, cli.color));
      const notes = [...broken.map(describeBroken), ...(catchUp ? [catchUp] : []), ...(folder ? [folder] : [])];
      const width = terminalWidth();
      // each note hangs under its text: the mark is coloured after the wrap
      if (notes.length > 0) cli.out(`\n${notes.map((n) => wrapText(`! ${n}`, width).replace(/^!/, st('yellow', '!'))).join('\n')}`);
      cli.out(`\n${wrapText(`Fix what is marked ✘ and run \`workshop next\` again. Stuck? \`workshop hint\` (${sp.hintsShown} shown so far).`, width)}`);
      if (started.loaded.def.state !== undefined) cli.out('see it: workshop state');
    }
    return 1;
  }
  // The next chapter's set-up prints its commands: it starts only after the pass is shown.
  const moved = await j.pass(pos, 'learner', results, { deferStart: true });
  const to = moved.to;
  if (cli.json) {
    if (to) await j.start(to.chapter);
    cli.emit({ step: address, passed, results, attempts: moved.attempts, next: to ? `${to.chapter.id}/${to.step}` : null, skipped: moved.skipped });
    return 0;
  }
  cli.out(renderResults(results, cli.color));
  cli.out(`\n${st('green', '✔')} ${address} passed.\n`);
  if (moved.closing) cli.out(`${await renderClosing(moved.closing, cli.color)}\n`);
  for (const k of moved.skipped) cli.out(`Skipping chapter ${k.chapter}: ${k.reason}`);
  if (to) {
    await j.start(to.chapter);
    await printStep(cli, to);
  } else cli.out('Every step is done. Well done! `workshop clean` removes everything the workshop made.');
  return 0;
}

export default defineCommand({
  meta: { name: 'next', summary: 'verify the current step; on pass, record it and show the next one', usage: 'next', exit: '0 pass, 1 fail' },
  needs: { root: true },
  run: next,
});
