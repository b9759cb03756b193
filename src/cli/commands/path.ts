// `workshop path [chapter]`: the chapter's folder, for `cd $(workshop path)`.
import { mkdirSync } from 'node:fs';
import type { Cli } from '../cli.ts';
import { chapterById, currentPosition, openSession } from '../session.ts';

export default async function path(cli: Cli): Promise<number> {
  const s = openSession(cli);
  const arg = cli.positionals[0];
  const chapter = arg ? chapterById(s, arg) : currentPosition(s).chapter;
  const dir = s.ws.chapterDir(chapter.id);
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // without root the folder may not be creatable; the path is still right
  }
  if (cli.json) cli.emit({ chapter: chapter.id, dir });
  else cli.out(dir);
  return 0;
}
