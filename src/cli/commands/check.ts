// `workshop check [step]`: verify without advancing (engine/journey-steps.ts checkStep).
import { checkStep } from '../../engine/journey-steps.ts';
import { renderResults } from '../../render/table.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function check(cli: Cli): Promise<number> {
  const { address, results, passed } = await checkStep(cli.journey(), cli.positionals[0], (l) => cli.err(l));
  if (cli.json) cli.emit({ step: address, passed, results });
  else {
    cli.out(`${address}:`);
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
