// `workshop reset [chapter]`: run the chapter's cleanup, remove its folder, and mark its steps
// undone. `workshop reset --all` does that for every chapter and forgets all progress: the one
// command that does (`clean` keeps it). On a terminal both say what will go and ask first.
import { readdir } from 'node:fs/promises';
import { removeTree, runChapterCleanups } from '../../engine/clean.ts';
import { takeInventory } from '../../engine/inventory.ts';
import type { Journey } from '../../engine/journey.ts';
import { chapterItems } from '../../engine/restore.ts';
import { cleanupChapter, describeFailure } from '../../engine/runner.ts';
import { envError, usageError } from '../../errors.ts';
import type { ChapterEntry } from '../../lessons/catalog.ts';
import type { Cli } from '../cli.ts';
import { confirmed, willAsk } from '../confirm.ts';
import { endDrillAfter, warnDrill } from '../drill-warning.ts';
import { defineCommand } from '../command.ts';

/** "3 of 8 steps done, 2 hints shown", from the progress as it is now. */
function progressOf(j: Journey, entry: ChapterEntry): { done: number; line: string } {
  const steps = Object.values(j.state.chapters[entry.id]?.steps ?? {});
  const done = steps.filter((s) => s.done !== undefined).length;
  const hints = steps.reduce((n, s) => n + s.hintsShown, 0);
  const total = entry.text.steps.length;
  return { done, line: `your progress in ${entry.id}: ${done} of ${total} step${total === 1 ? '' : 's'} done${hints > 0 ? `, ${hints} hint${hints === 1 ? '' : 's'} shown` : ''}` };
}

/** The folder and a few of its entries, so the learner sees whose files these are. */
async function folderLine(dir: string): Promise<string | null> {
  const names = await readdir(dir).catch(() => null);
  if (names === null) return null;
  const shown = names.slice(0, 8).join(', ');
  return `the folder ${dir}${names.length === 0 ? ' (empty)' : ` (${shown}${names.length > 8 ? `, and ${names.length - 8} more` : ''})`}`;
}

/** What `reset CHAPTER` will remove, as the kernel and the disk show it now. Each line is one thing. */
export async function resetPlan(j: Journey, entry: ChapterEntry): Promise<string[]> {
  const dir = j.ws.chapterDir(entry.id);
  const items = chapterItems(await takeInventory(j.ws.home), dir);
  const folder = await folderLine(dir);
  return [...items.map((i) => `${i.kind} ${i.id}: ${i.detail}`), ...(folder === null ? [] : [folder]), progressOf(j, entry).line];
}

async function resetChapter(cli: Cli, j: Journey, entry: ChapterEntry): Promise<number> {
  warnDrill(cli, entry.id, `reset ${entry.id}`, 'undone');
  if (willAsk(cli)) {
    cli.err(`Resetting chapter ${entry.id} runs its cleanup, and removes:`);
    for (const l of await resetPlan(j, entry)) cli.err(`  ${l}`);
  }
  if (!(await confirmed(cli, 'proceed', `reset ${entry.id}`))) {
    cli.err('Nothing was changed.');
    return 1;
  }
  // what the drill broke goes now, whether the rest of the reset succeeds or not
  await endDrillAfter(cli, j, entry.id);
  const loaded = await j.load(entry);
  const place = j.place(entry.id) ?? { chapter: entry.id, dir: j.ws.chapterDir(entry.id), home: j.ws.home, nonce: '', startedAt: 0 };
  try {
    await cleanupChapter(loaded, place, (l) => cli.err(l), !cli.json);
  } catch (err) {
    throw envError(`the cleanup of chapter ${entry.id} failed: ${describeFailure(err)}`, '`workshop clean` removes what it finds');
  }
  const busy = await removeTree(j.ws.chapterDir(entry.id), () => {});
  if (busy !== null) throw envError(`cannot remove ${j.ws.chapterDir(entry.id)}: ${busy}`, '`workshop clean` removes what is mounted there; then reset again');
  const first = await j.resetChapter(entry); // a fresh nonce and setup
  if (cli.json) cli.emit({ reset: entry.id, current: first ? `${entry.id}/${first.step}` : null });
  else cli.out(`Chapter ${entry.id} is reset: its resources are removed and its steps are undone. \`workshop show\` starts it again.`);
  return 0;
}

async function resetAll(cli: Cli, j: Journey): Promise<number> {
  const started = j.cat.chapters.filter((c) => j.state.chapters[c.id] !== undefined);
  const done = started.reduce((n, c) => n + progressOf(j, c).done, 0);
  warnDrill(cli, null, 'reset --all', 'undone');
  if (willAsk(cli)) {
    cli.err('workshop reset --all runs the cleanup of every chapter you started, and removes:');
    const folder = await folderLine(j.ws.chaptersDir);
    if (folder !== null) cli.err(`  ${folder}`);
    for (const c of started) cli.err(`  ${progressOf(j, c).line}`);
    cli.err(`  all your progress: ${done} step${done === 1 ? '' : 's'} done; you start again at the first step`);
  }
  if (!(await confirmed(cli, 'refuse', 'reset --all'))) {
    cli.err('Nothing was changed.');
    return 1;
  }
  await endDrillAfter(cli, j, null);
  const cleanups = await runChapterCleanups(j, (l) => cli.err(l), !cli.json);
  const failed = cleanups.flatMap((c) => (c.status === 'failed' ? [`${c.chapter}: ${c.error}`] : []));
  const busy = await removeTree(j.ws.chaptersDir, () => {});
  await j.forgetAll();
  const left = [...failed.map((f) => `the cleanup of ${f}`), ...(busy === null ? [] : [`${j.ws.chaptersDir}: ${busy}`])];
  if (cli.json) cli.emit({ reset: 'all', forgotten: done, cleanups, left });
  else {
    for (const l of left) cli.err(`could not: ${l}`);
    cli.out(`All progress is forgotten (${done} step${done === 1 ? '' : 's'} done before). \`workshop\` starts again at the first step.${left.length > 0 ? ' `workshop clean` removes what is left.' : ''}`);
  }
  return left.length === 0 ? 0 : 1;
}

async function reset(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  if (cli.flags['all'] === true) {
    if (arg !== undefined) throw usageError('reset takes a chapter or --all, not both', 'workshop reset CHAPTER resets one chapter; workshop reset --all forgets all progress');
    return resetAll(cli, j);
  }
  return resetChapter(cli, j, arg ? j.chapter(arg) : j.current().chapter);
}

export default defineCommand({
  meta: { name: 'reset', summary: "clean a chapter's resources and mark its steps undone; --all forgets all progress", usage: 'reset [chapter | --all] [--yes]', exit: '0/1' },
  maxArgs: 1,
  needs: { root: true, vm: 'reset a chapter', lock: true },
  flags: {
    all: { type: 'boolean', describe: "every chapter: run each one's cleanup and forget all progress (without a terminal it needs --yes)" },
    yes: { type: 'boolean', short: 'y', describe: 'do not ask first (a terminal asks, listing what will go)' },
  },
  run: reset,
});
