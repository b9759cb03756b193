// `workshop reset [chapter]`: run the chapter's cleanup, remove its folder, and mark its steps undone.
import { rm } from 'node:fs/promises';
import { envError } from '../../errors.ts';
import { cleanupChapter, describeFailure } from '../../engine/runner.ts';
import type { Cli } from '../cli.ts';

export default async function reset(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const chapter = arg ? j.chapter(arg) : j.current().chapter;
  const loaded = await j.load(chapter);
  const place = j.place(chapter.id) ?? { chapter: chapter.id, dir: j.ws.chapterDir(chapter.id), home: j.ws.home, nonce: '', startedAt: 0 };
  try {
    await cleanupChapter(loaded, place, (l) => cli.err(l), !cli.json);
  } catch (err) {
    throw envError(`the cleanup of chapter ${chapter.id} failed: ${describeFailure(err)}`, '`workshop clean` removes what it finds');
  }
  await rm(j.ws.chapterDir(chapter.id), { recursive: true, force: true });
  const first = await j.resetChapter(chapter); // a fresh nonce and setup
  if (cli.json) cli.emit({ reset: chapter.id, current: first ? `${chapter.id}/${first.step}` : null });
  else cli.out(`Chapter ${chapter.id} is reset: its resources are removed and its steps are undone. \`workshop show\` starts it again.`);
  return 0;
}
