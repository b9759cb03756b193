// `workshop lint [DIR]`: validate a lesson pack; every problem as file:line.
import { resolve } from 'node:path';
import { readCatalog, formatProblem, type LessonProblem } from '../../lessons/catalog.ts';
import { loadChapter } from '../../lessons/load.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function lint(cli: Cli): Promise<number> {
  const dir = cli.positionals[0] ? resolve(cli.positionals[0]) : cli.lessonsDir;
  const cat = readCatalog(dir);
  const problems: LessonProblem[] = [...cat.problems];
  for (const c of cat.chapters) await loadChapter(c, problems);
  const steps = cat.chapters.reduce((n, c) => n + c.text.steps.length, 0);
  if (cli.json) cli.emit({ dir, chapters: cat.chapters.map((c) => c.id), steps, problems, ok: problems.length === 0 });
  else if (problems.length === 0) cli.out(`${dir}: ${cat.chapters.length} chapter(s), ${steps} step(s), no problems`);
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
