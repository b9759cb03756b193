// `workshop goto <chapter|chapter/step>`: choose where to work.
import { usageError } from '../../errors.ts';
import { allStepAddresses } from '../../lessons/catalog.ts';
import type { Position } from '../../engine/journey.ts';
import type { Cli } from '../cli.ts';
import { printStep } from '../verify.ts';

export async function moveTo(cli: Cli, pos: Position): Promise<number> {
  const j = cli.journey();
  await j.goto(pos);
  if (cli.json) cli.emit({ current: `${pos.chapter.id}/${pos.step}`, dir: j.ws.chapterDir(pos.chapter.id) });
  else await printStep(cli, pos);
  return 0;
}

export default async function goto(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  if (!arg) {
    const all = allStepAddresses(j.cat);
    throw usageError('goto needs a chapter or a chapter/step', `for example: workshop goto ${all[1] ?? all[0] ?? 'chroot'}`);
  }
  return moveTo(cli, j.find(arg));
}
