// `workshop check [step]`: verify without advancing.
import { allPassed } from '../../checks/check.ts';
import { requireRoot } from '../../engine/guard.ts';
import { renderResults } from '../../render/table.ts';
import type { Cli } from '../cli.ts';
import { verifyAt } from '../lifecycle.ts';
import { currentPosition, findStep, openSession } from '../session.ts';

export default async function check(cli: Cli): Promise<number> {
  requireRoot(cli.line);
  const s = openSession(cli);
  const arg = cli.positionals[0];
  const pos = arg ? findStep(s, arg) : currentPosition(s);
  const { results } = await verifyAt(s, pos);
  const passed = allPassed(results);
  if (cli.json) cli.emit({ step: `${pos.chapter.id}/${pos.step}`, passed, results });
  else {
    cli.out(`${pos.chapter.id}/${pos.step}:`);
    cli.out(renderResults(results, cli.color));
  }
  return passed ? 0 : 1;
}
