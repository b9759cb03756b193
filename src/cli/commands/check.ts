// `workshop check [step]`: verify without advancing.
import { allPassed } from '../../checks/check.ts';
import { renderResults } from '../../render/table.ts';
import type { Cli } from '../cli.ts';
import { verifyAt } from '../verify.ts';
import { defineCommand } from '../command.ts';

async function check(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const pos = arg ? j.find(arg) : j.current();
  const { results } = await verifyAt(j, pos, (l) => cli.err(l));
  j.recordCheck(pos, results, 'check');
  const passed = allPassed(results);
  if (cli.json) cli.emit({ step: `${pos.chapter.id}/${pos.step}`, passed, results });
  else {
    cli.out(`${pos.chapter.id}/${pos.step}:`);
    cli.out(renderResults(results, cli.color));
  }
  return passed ? 0 : 1;
}

export default defineCommand({
  meta: { name: 'check', summary: 'verify a step without advancing', usage: 'check [chapter/step]', exit: '0/1' },
  maxArgs: 1,
  needs: { root: true },
  run: check,
});
