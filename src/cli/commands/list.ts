// `workshop list`: chapters and steps: done, current, todo, skipped (with the reason).
import { isDone } from '../../engine/progress.ts';
import { cachePath, readiness } from '../../engine/readiness.ts';
import { styler } from '../../render/style.ts';
import { BUILTIN } from '../../engine/packs.ts';
import { packSummaries } from '../../engine/pack-summary.ts';
import { chapterNumber } from '../status-lines.ts';
import { join } from 'node:path';
import { projectRoot, type Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

type StepStatus = 'done' | 'current' | 'todo' | 'skipped';

/** The packs beside the one listed (the built-in lessons are one of them), each with its own progress. */
const otherPacks = (cli: Cli) => packSummaries(cli.home, join(projectRoot(), 'lessons'), cli.lessonsDir);

async function list(cli: Cli): Promise<number> {
  const j = cli.journey();
  const cur = j.current();
  // what each chapter needs is probed once per boot (engine/readiness.ts); doctor --fresh re-probes
  const ready = await readiness(j.cat.chapters, { cache: cachePath(cli.home) });
  const chapters = j.cat.chapters.map((c, i) => {
    const r = ready.chapters[i];
    const reasons = r === undefined ? [] : r.kind === 'loaded' ? r.missing : [`broken lesson: ${r.problems.join('; ')}`];
    const skipped = reasons.length > 0 ? reasons.join('; ') : undefined;
    const steps = c.text.steps.map((st) => {
      const status: StepStatus = isDone(j.state, c.id, st.id) ? 'done' : c === cur.chapter && st.id === cur.step ? 'current' : skipped ? 'skipped' : 'todo';
      return { id: st.id, title: st.title, status };
    });
    return { id: c.id, number: chapterNumber(c), title: c.text.title, skipped, steps };
  });
  if (cli.json) {
    cli.emit({ pack: cli.selection.pack ?? (cli.selection.source === 'builtin' ? BUILTIN : null), current: `${cur.chapter.id}/${cur.step}`, chapters: chapters.map((c) => ({ ...c, skipped: c.skipped ?? null })), otherPacks: otherPacks(cli) });
    return 0;
  }
  const st = styler(cli.color);
  const mark: Record<StepStatus, string> = { done: st('green', '✔'), current: st('cyan', '▶'), todo: ' ', skipped: st('dim', '-') };
  const others = otherPacks(cli);
  if (others.length > 0) cli.out(`${st('bold', `Pack ${cli.selection.pack ?? (cli.selection.source === 'builtin' ? BUILTIN : cli.lessonsDir)}`)}${cli.selection.source === 'pack' || cli.selection.source === 'builtin' ? st('dim', ' (in use)') : ''}`);
  chapters.forEach((c) => {
    cli.out(`${st('bold', `${c.number} ${c.title}`)} ${st('dim', `(${c.id})`)}${c.skipped ? st('yellow', `  skipped: ${c.skipped}`) : ''}`);
    c.steps.forEach((x, j) => cli.out(`   ${mark[x.status]} ${j + 1}. ${x.title} ${st('dim', `${c.id}/${x.id}`)}`));
  });
  for (const o of others) cli.out(`\n${st('bold', `Pack ${o.name}`)} ${st('dim', `(${o.chapters} chapters, ${o.done}/${o.steps} steps done; \`workshop pack use ${o.name}\`)`)}`);
  return 0;
}

export default defineCommand({
  meta: { name: 'list', summary: 'chapters and steps: done, current, todo, skipped', usage: 'list', exit: '0' },
  run: list,
});
