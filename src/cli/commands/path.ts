// `workshop path [chapter]`: the chapter's folder, for `cd $(workshop path)`.
import { mkdirSync } from 'node:fs';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function path(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const chapter = arg ? j.chapter(arg) : j.current().chapter;
  // the learner arrives here: files made from now on count as made during the chapter
  await j.arrive(chapter);
  const dir = j.ws.chapterDir(chapter.id);
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // without root the folder may not be creatable; the path is still right
  }
  if (cli.json) cli.emit({ chapter: chapter.id, dir });
  else cli.out(dir);
  return 0;
}

export default defineCommand({
  meta: { name: 'path', summary: "print the current chapter's folder (cd $(workshop path))", usage: 'path [chapter]', exit: '0' },
  maxArgs: 1,
  run: path,
});
