// `workshop watch [--advance]`: re-verify on a timer and whenever the chapter folder changes.
// Kernel state (mounts, links) fires no file events, hence the timer too.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { allPassed, type CheckResult } from '../../checks/check.ts';
import { usageError } from '../../errors.ts';
import { renderResults } from '../../render/table.ts';
import type { Cli } from '../cli.ts';
import { flagString } from '../cli.ts';
import { renderClosing } from '../../render/step.ts';
import { verifyAt } from '../verify.ts';

export default async function watch(cli: Cli): Promise<number> {
  const interval = Number(flagString(cli.flags, 'interval') ?? '2');
  if (!Number.isFinite(interval) || interval < 0.2) throw usageError('--interval must be a number of seconds ≥ 0.2');
  const j = cli.journey();
  const once = cli.flags['once'] === true;
  let last = '';
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  let stop = false;
  const onSignal = () => {
    stop = true;
    wake?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (;;) {
      j.refresh(); // `next` in another pane may have moved the learner on
      const pos = j.current();
      const { results } = await verifyAt(j, pos, (l) => cli.err(l));
      const passed = allPassed(results);
      const shown = JSON.stringify(results);
      if (cli.json) {
        if (shown !== last || once) process.stdout.write(`${JSON.stringify({ step: `${pos.chapter.id}/${pos.step}`, passed, results })}\n`);
      } else if (shown !== last) {
        if (process.stdout.isTTY) process.stdout.write('\u001b[2J\u001b[H');
        cli.out(`watching ${pos.chapter.id}/${pos.step} (every ${interval} s and on changes in ${j.ws.chapterDir(pos.chapter.id)}; Ctrl-C stops)\n`);
        cli.out(renderResults(results as CheckResult[], cli.color));
      }
      // a changed table is worth reporting (to the class, if one is joined); the same one again is not
      if (shown !== last) j.recordCheck(pos, results, 'watch');
      last = shown;
      if (passed && cli.flags['advance'] === true) {
        const moved = await j.pass(pos, 'learner');
        const to = moved.to;
        if (!cli.json) {
          if (moved.closing) cli.out(`\n${await renderClosing(moved.closing, cli.color)}`);
          for (const k of moved.skipped) cli.out(`Skipping chapter ${k.chapter}: ${k.reason}`);
          cli.out(to ? `\n✔ passed; now on ${to.chapter.id}/${to.step} (workshop show)` : '\n✔ that was the last step');
        }
        if (!to) stop = true;
        last = '';
      }
      if (once || stop) return passed ? 0 : 1;
      watcher?.close();
      try {
        watcher = fsWatch(j.ws.chapterDir(pos.chapter.id), { recursive: true }, () => wake?.());
      } catch {
        watcher = undefined; // the folder may not exist yet; the timer still runs
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, interval * 1000);
      });
      if (stop) return 0;
    }
  } finally {
    watcher?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
