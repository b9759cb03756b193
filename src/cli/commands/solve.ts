// `workshop solve [step] [--through]`: run the reference solution (printing each command), then
// verify. The loop is the engine's (engine/journey-steps.ts solveSteps); this renders its events.
import { solveSteps, type SolveOutcome } from '../../engine/journey-steps.ts';
import { renderClosing } from '../../render/step.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';
import { activeDrill } from '../../engine/drill-record.ts';
import { heldAt, waitLine } from '../../classroom/inbox.ts';
import { usageError } from '../../errors.ts';

/** The --json report of one step. */
const reported = (o: SolveOutcome) => (o.status === 'error' ? { step: o.address, passed: false, results: [], error: o.error } : { step: o.address, passed: o.passed, results: o.results });

/**
 * The text's shell variables as the solutions left them (overlayfs's `$nonce`): a restore or a
 * solve builds where the text says, but cannot set a variable in the learner's shell. One line to
 * paste, flush left so that it copies as it is.
 */
export function printShellVars(cli: Cli, line: string | undefined): void {
  if (line === undefined || cli.json) return;
  const st = styler(cli.color);
  cli.out(wrapText("The chapter's text uses shell variables that your shell may not have now. Paste this line into it:", terminalWidth()));
  cli.out(st('cyan', line));
  cli.out();
}

async function solve(cli: Cli): Promise<number> {
  // During a drill the answer is --give-up: solve would pass the chapter's steps, which a drill never does.
  const drill = activeDrill(cli.home);
  if (drill) throw usageError(`a drill is on (${drill.chapter}/${drill.step}): solve would mark your chapter's steps`, 'fix it and run `workshop next`, or `workshop drill --give-up` for the answer and the repair');
  // The class waits at a step (`classroom hold`): solving it would move the learner past it.
  const hold = heldAt(cli.home);
  if (hold !== null) {
    const pos = cli.journey().current();
    if ((cli.positionals[0] ?? `${pos.chapter.id}/${pos.step}`) === hold) throw usageError(`${waitLine(hold)}: \`workshop solve\` would move you past it`, 'read and check it meanwhile (`workshop show`, `workshop check`); solve works again once they release the class');
  }
  const st = styler(cli.color);
  const r = await solveSteps(cli.journey(), cli.positionals[0], {
    through: cli.flags['through'] === true,
    log: (l) => cli.err(l),
    on: async (e) => {
      if (e.type === 'solving') cli.err(st('bold', `▶ solving ${e.pos.chapter.id}/${e.pos.step}`));
      if (cli.json) return;
      if (e.type === 'solved') {
        const o = e.outcome;
        if (o.status === 'error') cli.out(`${st('red', '✘')} the solution of ${o.address} failed: ${o.error}`);
        else cli.out(`${o.passed ? st('green', '✔') : st('red', '✘')} ${o.address}${o.passed ? ' passes' : ' still fails:'}`);
        if (o.status === 'solved' && !o.passed) cli.out(renderResults(o.results, cli.color));
      } else if (e.type === 'passed' && e.moved.advanced) {
        if (e.moved.closing) cli.out(`\n${await renderClosing(e.moved.closing, cli.color)}\n`);
        for (const k of e.moved.skipped) cli.out(`Skipping chapter ${k.chapter}: ${k.reason}`);
      }
    },
  });
  const solved = r.outcomes.map(reported);
  if (r.failed) {
    if (cli.json) cli.emit({ solved, next: r.next });
    return 1;
  }
  printShellVars(cli, r.paste);
  if (cli.json) cli.emit({ solved, next: r.next, paste: r.paste ?? null });
  else if (r.next) cli.out(`Next: ${r.next} (\`workshop show\`)`);
  return 0;
}

export default defineCommand({
  meta: { name: 'solve', summary: "run the step's reference solution, then verify", usage: 'solve [chapter/step] [--through]', exit: '0/1' },
  maxArgs: 1,
  needs: { root: true, vm: 'run a solution', lock: true },
  flags: { through: { type: 'boolean', describe: 'first catch up every earlier step of the chapter' } },
  run: solve,
});
