// `workshop hint`: the next hint of the current step, remembered in state.json.
import { stepProgress } from '../../engine/progress.ts';
import type { Cli } from '../cli.ts';
import { chapterProgress, currentPosition, load, openSession } from '../session.ts';

export default async function hint(cli: Cli): Promise<number> {
  const s = openSession(cli);
  const pos = currentPosition(s);
  const hints = (await load(pos.chapter)).def.steps[pos.step]?.hints ?? [];
  chapterProgress(s, pos.chapter.id);
  const sp = stepProgress(s.state, pos.chapter.id, pos.step);
  const n = Math.min(sp.hintsShown + 1, hints.length);
  const exhausted = sp.hintsShown >= hints.length;
  sp.hintsShown = n;
  let saved = true;
  try {
    s.save();
  } catch {
    saved = false; // a learner without root can still read hints; the count is just not kept
  }
  const shown = hints.slice(0, n);
  if (cli.json) {
    cli.emit({ step: `${pos.chapter.id}/${pos.step}`, shown: n, total: hints.length, hints: shown, exhausted, saved });
    return 0;
  }
  const text = hints[n - 1];
  if (text === undefined) cli.out('This step has no hints.');
  else cli.out(`Hint ${n}/${hints.length} for ${pos.chapter.id}/${pos.step}:\n  ${text}`);
  if (exhausted) cli.out('That was the last hint. `workshop solve` runs the reference solution and shows each command.');
  if (!saved) cli.err('(could not save the hint count: run as root to keep it)');
  return 0;
}
