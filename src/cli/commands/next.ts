// `workshop next`: verify the current step; on pass record it and show the next step. The use
// case is the engine's (engine/journey-steps.ts nextStep); this renders its outcome.
import { heldAt, waitLine } from '../../classroom/inbox.ts';
import { checkStep, nextStep, type NextOutcome } from '../../engine/journey-steps.ts';
import { renderClosing } from '../../render/step.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';
import { printStep } from './show.ts';

function renderFailure(cli: Cli, o: Extract<NextOutcome, { passed: false }>): void {
  const st = styler(cli.color);
  const chapter = o.pos.chapter.id;
  if (cli.json) {
    cli.emit({ step: o.address, passed: false, results: o.results, attempts: o.attempts, noLongerHold: o.broken.map((b) => ({ step: `${chapter}/${b.step}`, failing: b.failing })), notDone: o.notDone.map((m) => `${chapter}/${m.step}`) });
    return;
  }
  cli.out(`${st('red', '✘')} ${o.address} is not done yet:\n`);
  cli.out(renderResults(o.results, cli.color));
  const { notes } = o;
  const width = terminalWidth();
  // each note hangs under its text: the mark is coloured after the wrap
  if (notes.length > 0) cli.out(`\n${notes.map((n) => wrapText(`! ${n}`, width).replace(/^!/, st('yellow', '!'))).join('\n')}`);
  cli.out(`\n${wrapText(`Fix what is marked ✘ and run \`workshop next\` again. Stuck? \`workshop hint\` (${o.hintsShown} shown so far).`, width)}`);
  if (o.drawable) cli.out('see it: workshop state');
}

/**
 * The instructor asked the class to wait at this step (`classroom hold`, issue 22): it is checked
 * as `check` would, and the learner stays on it, free to read and check, until the release.
 */
async function waitAtHold(cli: Cli, step: string): Promise<number> {
  const v = await checkStep(cli.journey(), undefined, (l) => cli.err(l));
  const st = styler(cli.color);
  if (cli.json) {
    cli.emit({ step, passed: v.passed, results: v.results, held: true });
    return v.passed ? 0 : 1;
  }
  cli.out(renderResults(v.results, cli.color));
  cli.out(`\n${v.passed ? `${st('green', '✔')} ${step} passes.` : `${st('red', '✘')} ${step} is not done yet.`} ${st('yellow', `${waitLine(step)}:`)} you can still read (\`workshop show\`) and check; \`workshop next\` moves on once they release the class.`);
  return v.passed ? 0 : 1;
}

async function next(cli: Cli): Promise<number> {
  const st = styler(cli.color);
  const o = await nextStep(cli.journey(), {
    hold: heldAt(cli.home),
    checkDrill: async (d) => (await import('../../engine/drill.ts')).checkDrill(cli.journey(), d),
    log: (l) => cli.err(l),
    // the pass is shown before the next chapter's set-up prints its commands
    announce: async ({ address, results, moved }) => {
      if (cli.json) return;
      cli.out(renderResults(results, cli.color));
      cli.out(`\n${st('green', '✔')} ${address} passed.\n`);
      if (moved.closing) cli.out(`${await renderClosing(moved.closing, cli.color)}\n`);
      for (const k of moved.skipped) cli.out(`Skipping chapter ${k.chapter}: ${k.reason}`);
    },
  });
  // a drill in progress is what `next` checked, not the chapter's step (commands/drill.ts)
  if (o.in === 'drill') return (await import('./drill.ts')).renderDrillNext(cli, o.drill, o.check);
  if (o.in === 'hold') return waitAtHold(cli, o.step);
  if (!o.passed) {
    renderFailure(cli, o);
    return 1;
  }
  const to = o.moved.to;
  if (cli.json) cli.emit({ step: o.address, passed: true, results: o.results, attempts: o.moved.attempts, next: to ? `${to.chapter.id}/${to.step}` : null, skipped: o.moved.skipped });
  else if (o.now) await printStep(cli, o.now);
  else cli.out('Every step is done. Well done! `workshop clean` removes everything the workshop made.');
  return 0;
}

export default defineCommand({
  meta: { name: 'next', summary: 'verify the current step; on pass, record it and show the next one', usage: 'next', exit: '0 pass, 1 fail' },
  needs: { root: true },
  run: next,
});
