// `workshop solve [step] [--through]`: run the reference solution (printing each command), then verify.
import { allPassed } from '../../checks/check.ts';
import type { Position } from '../../engine/journey.ts';
import { earlierStepsBroken } from '../../engine/recheck.ts';
import { describeFailure, solveStep, verifyStep } from '../../engine/runner.ts';
import { stepIds } from '../../lessons/catalog.ts';
import { renderClosing } from '../../render/step.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { printShellVars } from './goto.ts';
import { defineCommand } from '../command.ts';

async function solve(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const target = arg ? j.find(arg) : j.current();
  const { loaded, place } = await j.start(target.chapter);
  const st = styler(cli.color);
  const ids = stepIds(target.chapter);
  const at = (step: string): Position => ({ chapter: target.chapter, step, index: ids.indexOf(step) });
  // --through also replays an earlier step that is done but no longer holds: `workshop clean` keeps
  // the progress and removes what the steps built
  const broken = cli.flags['through'] ? new Set((await earlierStepsBroken(loaded, place, target, (s) => j.isDone(at(s)))).map((b) => b.step)) : new Set<string>();
  const todo: Position[] = (cli.flags['through'] ? ids.slice(0, target.index + 1) : [target.step]).map(at).filter((p) => p.step === target.step || !j.isDone(p) || broken.has(p.step));
  const report: Array<{ step: string; passed: boolean; results: unknown; error?: string }> = [];
  let next: string | null = null;
  for (const pos of todo) {
    const address = `${pos.chapter.id}/${pos.step}`;
    cli.err(st('bold', `▶ solving ${address}`));
    try {
      await solveStep(loaded, pos.step, place, (l) => cli.err(l), true);
    } catch (err) {
      const error = describeFailure(err);
      report.push({ step: address, passed: false, results: [], error });
      j.recordSolve(pos, [{ status: 'error', check: `the solution of ${address}`, error }]);
      if (cli.json) cli.emit({ solved: report, next });
      else cli.out(`${st('red', '✘')} the solution of ${address} failed: ${error}`);
      return 1;
    }
    const results = await verifyStep(loaded, pos.step, place);
    const passed = allPassed(results);
    j.recordSolve(pos, results);
    report.push({ step: address, passed, results });
    if (!cli.json) cli.out(`${passed ? st('green', '✔') : st('red', '✘')} ${address}${passed ? ' passes' : ' still fails:'}`);
    if (!passed) {
      if (!cli.json) cli.out(renderResults(results, cli.color));
      else cli.emit({ solved: report, next });
      return 1;
    }
    // solving the step the learner is on moves them on, as `next` would
    const moved = await j.pass(pos, 'solve', undefined, { deferStart: true });
    if (moved.advanced) {
      next = moved.to ? `${moved.to.chapter.id}/${moved.to.step}` : null;
      if (!cli.json) {
        if (moved.closing) cli.out(`\n${await renderClosing(moved.closing, cli.color)}\n`);
        for (const k of moved.skipped) cli.out(`Skipping chapter ${k.chapter}: ${k.reason}`);
      }
      // the next chapter's set-up prints its commands after the pass and the closing, not before
      if (moved.to) await j.start(moved.to.chapter);
    }
  }
  // the solutions built where the text says; the learner's shell may still lack the text's variables
  const paste = await printShellVars(cli, target.chapter);
  if (cli.json) cli.emit({ solved: report, next, paste: paste ?? null });
  else if (next) cli.out(`Next: ${next} (\`workshop show\`)`);
  return 0;
}

export default defineCommand({
  meta: { name: 'solve', summary: "run the step's reference solution, then verify", usage: 'solve [chapter/step] [--through]', exit: '0/1' },
  maxArgs: 1,
  needs: { root: true, vm: 'run a solution', lock: true },
  flags: { through: { type: 'boolean', describe: 'first catch up every earlier step of the chapter' } },
  run: solve,
});
