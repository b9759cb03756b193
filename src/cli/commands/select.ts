// `workshop select`: a menu of steps on a terminal; `goto` is the scriptable form.
import { usageError } from '../../errors.ts';
import { isDone } from '../../engine/progress.ts';
import type { Journey } from '../../engine/journey.ts';
import type { ChapterEntry } from '../../lessons/catalog.ts';
import { WorkshopError } from '../../errors.ts';
import { chooseStep, type MenuItem } from '../../render/menu.ts';
import { join } from 'node:path';
import { usePack } from '../../engine/pack-install.ts';
import { packViews, type PackView } from '../../engine/pack-summary.ts';
import { BUILTIN, selectLessons } from '../../engine/packs.ts';
import { projectRoot, type Cli } from '../cli.ts';
import { openJourney } from '../journey.ts';
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
  // the other packs side by side, the built-in lessons as one of them: a step there switches packs
  const others = cli.selection.source === 'pack' || cli.selection.source === 'builtin' ? packViews(cli.home, join(projectRoot(), 'lessons'), j.cat.dir) : [];
  if (others.length > 0) items.unshift({ value: '', name: `Pack ${cli.selection.pack ?? BUILTIN}`, disabled: '(in use)' });
  for (const v of others) items.push({ value: '', name: `Pack ${v.name}`, disabled: '(a step here makes it the pack in use)' }, ...otherItems(v));
  const answer = await chooseStep('Where do you want to work?', items, here);
  // Like fzf, a menu closed without a choice exits 130 (128 + SIGINT), so that
  // `workshop select && workshop show` stops there. Escape and Ctrl-C both say where you are.
  if (answer.kind === 'cancelled') {
    cli.err(`Cancelled: you are still at ${here}.`);
    return 130;
  }
  const [packName, address] = answer.value.includes(PACK_SEP) ? answer.value.split(PACK_SEP) : [undefined, answer.value];
  if (packName === undefined || address === undefined) return moveTo(cli, j.find(answer.value));
  const switched = switchedTo(cli, packName);
  return moveTo(switched, switched.journey().find(address));
}

const PACK_SEP = '\t';

/** Another pack's steps in the menu, each with its done mark (its chapters are not probed). */
const otherItems = (v: PackView): MenuItem[] =>
  v.cat.chapters.flatMap((c) => c.text.steps.map((st, i) => ({ value: `${v.name}${PACK_SEP}${c.id}/${st.id}`, name: `${isDone(v.state, c.id, st.id) ? '✔' : ' '} ${c.id} ${i + 1}. ${st.title}` })));

/** Makes `name` the pack in use and gives the command a journey on it. */
function switchedTo(cli: Cli, name: string): Cli {
  usePack(cli.home, name);
  const selection = selectLessons(cli.home, undefined, join(projectRoot(), 'lessons'));
  let journey: Journey | undefined;
  const opened = () => (journey ??= openJourney({ home: cli.home, lessonsDir: selection.dir, pack: selection.progress, allowHost: cli.allowHost, command: cli.verb, log: (l) => cli.err(l), verbose: !cli.json }));
  cli.err(`Now using ${name === BUILTIN ? 'the built-in lessons' : `the pack ${name}`}.`);
  return { ...cli, lessonsDir: selection.dir, selection, journey: opened };
}

export default defineCommand({
  meta: { name: 'select', summary: 'choose a step from a menu', usage: 'select', exit: '0' },
  needs: { root: true },
  run: select,
});
