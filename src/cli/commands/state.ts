// `workshop state [chapter]`: a picture of what the learner has really built in a chapter, drawn
// from the probes the checks use. Read-only: it never starts or sets up a chapter.
import { checkContext } from '../../engine/context.ts';
import { FAMILIES } from '../../engine/families.ts';
import { describeState } from '../../engine/state/index.ts';
import { usageError } from '../../errors.ts';
import { renderState } from '../../render/state/index.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function state(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const entry = arg ? j.chapter(arg) : j.current().chapter;
  const place = j.place(entry.id);
  if (!place) throw usageError(`chapter ${entry.id} has not started yet: there is nothing to draw`, `start it: workshop goto ${entry.id}`);
  const loaded = await j.load(entry);
  const doc = await describeState(checkContext(place), loaded.def.state);
  if (cli.json) cli.emit(doc);
  else cli.out(renderState(doc, cli.color, FAMILIES));
  return 0;
}

export default defineCommand({
  meta: { name: 'state', summary: 'draw what you have really built in a chapter: overlay stacks, subvolumes, namespaces, the lab network…', usage: 'state [chapter]', exit: '0' },
  maxArgs: 1,
  needs: { root: true },
  run: state,
});
