// `workshop clean`: discover what workshop or the learner made for it, remove it, and show the
// inventory before and after. It trusts no log: it looks at the kernel.
import { rm } from 'node:fs/promises';
import { workspace } from '../../engine/workspace.ts';
import { cleanResidue } from '../../engine/clean.ts';
import { findVisitors, takeInventory, type ResidueItem, type Visitor } from '../../engine/inventory.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';

/** A shell with its cwd in the workspace is the learner's: named, never killed. */
const visitorLines = (vs: readonly Visitor[]): string[] =>
  vs.map((v) => `  ${v.name} (PID ${v.pid}) is inside ${v.cwd}; cd out of it (cd ~). workshop leaves your shells alone.`);

function listItems(items: readonly ResidueItem[]): string[] {
  return items.length === 0 ? ['  (nothing)'] : items.map((i) => `  ${i.kind.padEnd(8)} ${i.id}${i.detail ? `  (${i.detail})` : ''}`);
}

export default async function clean(cli: Cli): Promise<number> {
  const ws = workspace(cli.home);
  const home = ws.home;
  const before = await takeInventory(home);
  const actions: string[] = [];
  const log = (l: string) => {
    actions.push(l);
    if (!cli.json) cli.err(`  ${l}`);
  };
  const st = styler(cli.color);
  if (!cli.json) cli.out([st('bold', 'Found:'), ...listItems(before)].join('\n'));
  const visitors = await findVisitors(home, before);
  if (!cli.json && visitors.length > 0) cli.out(visitorLines(visitors).join('\n'));
  const errors = await cleanResidue(home, before, log);
  // The workspace folders go too; state.json keeps only the learner's position.
  for (const d of [ws.chaptersDir, ws.selftestDir]) await rm(d, { recursive: true, force: true });
  await cli.journey().forget();
  const after = await takeInventory(home);
  if (cli.json) cli.emit({ before, visitors, actions, errors, after, clean: after.length === 0 });
  else {
    cli.out([st('bold', 'Left after cleaning:'), ...listItems(after)].join('\n'));
    for (const e of errors) cli.err(`  ${st('red', 'could not')} ${e}`);
    cli.out(after.length === 0 ? st('green', 'Clean: nothing of the workshop is left on this machine.') : st('red', `${after.length} item(s) are left; see above.`));
  }
  return after.length === 0 ? 0 : 1;
}
