// `workshop solve [step] [--through]`: run the reference solution (printing each command), then verify.
import { allPassed } from '../../checks/check.ts';
import { requireRoot, requireVm } from '../../engine/guard.ts';
import { withLock } from '../../engine/lock.ts';
import { isDone } from '../../engine/progress.ts';
import { describeFailure, solveStep, verifyStep } from '../../engine/runner.ts';
import { stepIds } from '../../lessons/catalog.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { enter, markDone, nextPosition, startChapter } from '../lifecycle.ts';
import { currentPosition, findStep, openSession, type Position } from '../session.ts';

export default async function solve(cli: Cli): Promise<number> {
  requireRoot(cli.line);
  await requireVm(cli.allowHost, 'run a solution');
  const s = openSession(cli);
  return withLock(s.ws.lockPath, 'solve', async () => {
    const arg = cli.positionals[0];
    const target = arg ? findStep(s, arg) : currentPosition(s);
    const { loaded, place } = await startChapter(s, target.chapter);
    const st = styler(cli.color);
    const ids = stepIds(target.chapter);
    const todo: Position[] = (cli.flags['through'] ? ids.slice(0, target.index + 1) : [target.step])
      .map((step) => ({ chapter: target.chapter, step, index: ids.indexOf(step) }))
      .filter((p) => p.step === target.step || !isDone(s.state, p.chapter.id, p.step));
    const report: Array<{ step: string; passed: boolean; results: unknown; error?: string }> = [];
    for (const pos of todo) {
      cli.err(st('bold', `▶ solving ${pos.chapter.id}/${pos.step}`));
      try {
        await solveStep(loaded, pos.step, place, (l) => cli.err(l), true);
      } catch (err) {
        const error = describeFailure(err);
        report.push({ step: `${pos.chapter.id}/${pos.step}`, passed: false, results: [], error });
        if (cli.json) cli.emit({ solved: report });
        else cli.out(`${st('red', '✘')} the solution of ${pos.chapter.id}/${pos.step} failed: ${error}`);
        s.save();
        return 1;
      }
      const results = await verifyStep(loaded, pos.step, place);
      const passed = allPassed(results);
      report.push({ step: `${pos.chapter.id}/${pos.step}`, passed, results });
      if (!cli.json) cli.out(`${passed ? st('green', '✔') : st('red', '✘')} ${pos.chapter.id}/${pos.step}${passed ? ' passes' : ' still fails:'}`);
      if (!passed) {
        if (!cli.json) cli.out(renderResults(results, cli.color));
        else cli.emit({ solved: report });
        s.save();
        return 1;
      }
      markDone(s, pos, 'solve');
    }
    // Solving the current step moves on, as `next` would.
    const cur = currentPosition(s);
    let next: string | null = null;
    if (cur.chapter === target.chapter && cur.index <= target.index) {
      const to = await nextPosition(s, target, (c, reason) => cli.err(`Skipping chapter ${c}: ${reason}`));
      if (to) {
        await enter(s, to);
        next = `${to.chapter.id}/${to.step}`;
      }
    }
    s.save();
    if (cli.json) cli.emit({ solved: report, next });
    else if (next) cli.out(`Next: ${next} (\`workshop show\`)`);
    return 0;
  });
}
