// `workshop list`: chapters and steps: done, current, todo, skipped (with the reason).
import { isDone } from '../../engine/progress.ts';
import { cachePath, readiness } from '../../engine/readiness.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

type StepStatus = 'done' | 'current' | 'todo' | 'skipped';

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
    return { id: c.id, title: c.text.title, skipped, steps };
  });
  if (cli.json) {
    cli.emit({ current: `${cur.chapter.id}/${cur.step}`, chapters: chapters.map((c) => ({ ...c, skipped: c.skipped ?? null })) });
    return 0;
  }
  const st = styler(cli.color);
  const mark: Record<StepStatus, string> = { done: st('green', '✔'), current: st('cyan', '▶'), todo: ' ', skipped: st('dim', '-') };
  chapters.forEach((c, i) => {
    cli.out(`${st('bold', `${String(i).padStart(2, '0')} ${c.title}`)} ${st('dim', `(${c.id})`)}${c.skipped ? st('yellow', `  skipped: ${c.skipped}`) : ''}`);
    c.steps.forEach((x, j) => cli.out(`   ${mark[x.status]} ${j + 1}. ${x.title} ${st('dim', `${c.id}/${x.id}`)}`));
  });
  return 0;
}

export default defineCommand({
  meta: { name: 'list', summary: 'chapters and steps: done, current, todo, skipped', usage: 'list', exit: '0' },
  run: list,
});
