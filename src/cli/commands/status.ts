// `workshop` / `workshop status`: where you are. It must be fast: no markdown, no steps module.
// Without flags it is answered before main.ts loads (src/cli/quick.ts), with the same lines.
import { statusLines, statusView } from '../status-lines.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function status(cli: Cli): Promise<number> {
  const j = cli.journey();
  if (cli.json) {
    cli.emit(statusView(j.cat, j.state, cli.home));
    return 0;
  }
  for (const line of statusLines(j.cat, j.state, cli.home, cli.color)) cli.out(line);
  return 0;
}

export default defineCommand({
  meta: { name: 'status', summary: 'where you are: chapter, step n/m, progress, what to do next', usage: 'status', exit: '0' },
  run: status,
});
