// `workshop lint [DIR]`: validate a lesson pack; every problem as file:line.
import { resolve } from 'node:path';
import { formatProblem, lintPack } from '../../engine/lint.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function lint(cli: Cli): Promise<number> {
  const dir = cli.positionals[0] ? resolve(cli.positionals[0]) : cli.lessonsDir;
  const { chapters, steps, problems } = await lintPack(dir);
  if (cli.json) cli.emit({ dir, chapters, steps, problems, ok: problems.length === 0 });
  else if (problems.length === 0) cli.out(`${dir}: ${chapters.length} chapter(s), ${steps} step(s), no problems`);
  else {
    for (const p of problems) cli.out(formatProblem(p));
    cli.out(`\n${problems.length} problem(s) in ${dir}`);
  }
  return problems.length === 0 ? 0 : 4;
}

export default defineCommand({
  meta: { name: 'lint', summary: 'validate a lesson pack (ids, pairing, verify/solve), with file:line errors', usage: 'lint [DIR]', exit: '0/4' },
  maxArgs: 1,
  run: lint,
});
