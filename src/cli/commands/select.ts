// `workshop select`: a menu of steps on a terminal; `goto` is the scriptable form.
import { usageError } from '../../errors.ts';
import { isDone } from '../../engine/progress.ts';
import type { Journey } from '../../engine/journey.ts';
import type { ChapterEntry } from '../../lessons/catalog.ts';
import { WorkshopError } from '../../errors.ts';
import { chooseStep, type MenuItem } from '../../render/menu.ts';
import type { Cli } from '../cli.ts';
import { moveTo } from './goto.ts';
import { defineCommand } from '../command.ts';

/** Why a chapter cannot be done on this machine (as `list` says it), or undefined. */
async function skipReason(j: Journey, c: ChapterEntry): Promise<string | undefined> {
  try {
    return await j.skipReason(c);
  } catch (err) {
    if (err instanceof WorkshopError) return 'the lesson is broken (workshop lint)';
    throw err;
  }
}

const short = (s: string, n = 60): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

async function select(cli: Cli): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY || cli.json) throw usageError('select needs a terminal', 'use `workshop goto <chapter/step>` in scripts; `workshop list` shows the ids');
  const j = cli.journey();
  const cur = j.current();
  const skipped = await Promise.all(j.cat.chapters.map((c) => skipReason(j, c)));
  const items = j.cat.chapters.flatMap((c, ci): MenuItem[] => {
    const why = skipped[ci];
    return c.text.steps.map((st, i) => {
      const mark = why !== undefined ? '-' : isDone(j.state, c.id, st.id) ? '✔' : ' ';
      const item = { value: `${c.id}/${st.id}`, name: `${mark} ${c.id} ${i + 1}. ${st.title}` };
      return why === undefined ? item : { ...item, disabled: `(skipped: ${short(why)})` };
    });
  });
  const here = `${cur.chapter.id}/${cur.step}`;
  const answer = await chooseStep('Where do you want to work?', items, here);
  // Like fzf, a menu closed without a choice exits 130 (128 + SIGINT), so that
  // `workshop select && workshop show` stops there. Escape and Ctrl-C both say where you are.
  if (answer.kind === 'cancelled') {
    cli.err(`Cancelled: you are still at ${here}.`);
    return 130;
  }
  return moveTo(cli, j.find(answer.value));
}

export default defineCommand({
  meta: { name: 'select', summary: 'choose a step from a menu', usage: 'select', exit: '0' },
  needs: { root: true },
  run: select,
});
