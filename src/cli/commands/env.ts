// `workshop env [chapter]`: export lines for the chapter's variables: eval "$(workshop env)".
import { exportedVars } from '../../engine/runner.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

async function env(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const chapter = arg ? j.chapter(arg) : j.current().chapter;
  const loaded = await j.load(chapter);
  const progress = j.state.chapters[chapter.id];
  const dir = j.ws.chapterDir(chapter.id);
  const vars = await exportedVars(loaded, { chapter: chapter.id, dir, home: j.ws.home, nonce: progress?.nonce ?? '', startedAt: progress?.startedAt ?? 0 });
  if (cli.json) cli.emit(vars);
  else for (const [k, v] of Object.entries(vars)) cli.out(`export ${k}=${quote(v)}`);
  return 0;
}

export default defineCommand({
  meta: { name: 'env', summary: "print export lines for WORKSHOP_CHAPTER, WORKSHOP_DIR, WORKSHOP_NONCE and the chapter's env (eval $(workshop env))", usage: 'env [chapter]', exit: '0' },
  maxArgs: 1,
  run: env,
});
