// `workshop reset [chapter]`: run the chapter's cleanup, remove its folder, and mark its steps undone.
import { rm } from 'node:fs/promises';
import { requireRoot, requireVm } from '../../engine/guard.ts';
import { withLock } from '../../engine/lock.ts';
import { cleanupChapter, describeFailure } from '../../engine/runner.ts';
import { stepIds } from '../../lessons/catalog.ts';
import type { Cli } from '../cli.ts';
import { enter } from '../lifecycle.ts';
import { chapterById, currentPosition, load, openSession, place } from '../session.ts';

export default async function reset(cli: Cli): Promise<number> {
  requireRoot(cli.line);
  await requireVm(cli.allowHost, 'reset a chapter');
  const s = openSession(cli);
  return withLock(s.ws.lockPath, 'reset', async () => {
    const arg = cli.positionals[0];
    const chapter = arg ? chapterById(s, arg) : currentPosition(s).chapter;
    const loaded = await load(chapter);
    const progress = s.state.chapters[chapter.id] ?? { nonce: '', startedAt: 0, steps: {} };
    try {
      await cleanupChapter(loaded, place(s, chapter.id, progress), (l) => cli.err(l), !cli.json);
    } catch (err) {
      throw new Error(`the cleanup of chapter ${chapter.id} failed: ${describeFailure(err)}; \`workshop clean\` removes what it finds`);
    }
    await rm(s.ws.chapterDir(chapter.id), { recursive: true, force: true });
    delete s.state.chapters[chapter.id];
    const first = stepIds(chapter)[0];
    if (first !== undefined) await enter(s, { chapter, step: first, index: 0 }); // a fresh nonce and setup
    if (cli.json) cli.emit({ reset: chapter.id, current: `${chapter.id}/${first ?? ''}` });
    else cli.out(`Chapter ${chapter.id} is reset: its resources are removed and its steps are undone. \`workshop show\` starts it again.`);
    return 0;
  });
}
