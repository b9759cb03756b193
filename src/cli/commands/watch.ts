// `workshop watch [--advance]`: re-verify on a timer, whenever the chapter folder changes, and
// whenever a mount comes or goes (mount steps react within a few hundred ms). Other kernel state
// (links, btrfs properties) fires no event, hence the timer too.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { allPassed, type CheckResult } from '../../checks/check.ts';
import { onMountChange } from '../../checks/mounts.ts';
import { usageError } from '../../errors.ts';
import { renderResults } from '../../render/table.ts';
import type { Cli } from '../cli.ts';
import { flagString } from '../cli.ts';
import { renderClosing } from '../../render/step.ts';
import { verifyAt } from '../verify.ts';
import { defineCommand } from '../command.ts';

/**
 * Changes come in bursts (`busybox --install` makes 400 links, `cp -a` many files): verify once
 * they have settled for this long, not in the middle, where a half-made state reads as ✘.
 */
const SETTLE_MS = 150;

/**
 * The terminal of a live watch: the alternate screen (as less and top use), redrawn in place, so
 * that frames never pile up in the scrollback; the last frame is printed again on leaving it.
 */
function liveScreen(write: (text: string) => void): { draw(frame: string): void; leave(): void } {
  let last = '';
  let left = false;
  write('\u001b[?1049h\u001b[H\u001b[2J');
  return {
    draw(frame) {
      last = frame;
      // Home, each line cleared to its end, then the rest of the screen: no flicker, no residue.
      write(`\u001b[H${frame.split('\n').join('\u001b[K\n')}\u001b[K\u001b[J`);
    },
    leave() {
      if (left) return;
      left = true;
      write('\u001b[?1049l');
      if (last) write(`${last}\n`);
    },
  };
}

async function watch(cli: Cli): Promise<number> {
  const interval = Number(flagString(cli.flags, 'interval') ?? '2');
  if (!Number.isFinite(interval) || interval < 0.2) throw usageError('--interval must be a number of seconds ≥ 0.2');
  const j = cli.journey();
  const once = cli.flags['once'] === true;
  let last = '';
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  let settle: NodeJS.Timeout | undefined;
  let stop = false;
  // A wake while a verify runs is kept for the wait after it: the change it reports came too late
  // for the verify that is running.
  let wakePending = false;
  const fire = () => {
    const w = wake;
    wake = undefined;
    if (w) w();
    else wakePending = true;
  };
  const onSignal = () => {
    stop = true;
    fire();
  };
  // A change wakes the loop once nothing else has changed for SETTLE_MS.
  const changed = () => {
    clearTimeout(settle);
    settle = setTimeout(fire, SETTLE_MS);
  };
  const live = !once && !cli.json && process.stdout.isTTY === true;
  const screen = live ? liveScreen(cli.stream) : undefined;
  const stopMounts = once ? undefined : await onMountChange(changed);
  let notes: string[] = [];
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (;;) {
      wakePending = false; // this verify sees every change made so far
      j.refresh(); // `next` in another pane may have moved the learner on
      const pos = j.current();
      const { results } = await verifyAt(j, pos, (l) => cli.err(l));
      const passed = allPassed(results);
      const shown = JSON.stringify(results);
      if (cli.json) {
        if (shown !== last || once) cli.stream(`${JSON.stringify({ step: `${pos.chapter.id}/${pos.step}`, passed, results })}\n`);
      } else if (shown !== last) {
        const frame = [
          `watching ${pos.chapter.id}/${pos.step} (every ${interval} s, on changes in ${j.ws.chapterDir(pos.chapter.id)} and on mounts; Ctrl-C stops)`,
          ...notes,
          '',
          renderResults(results as CheckResult[], cli.color),
        ].join('\n');
        if (screen) screen.draw(frame);
        else cli.out(frame);
        notes = [];
      }
      // a changed table is worth reporting (to the class, if one is joined); the same one again is not
      if (shown !== last) j.recordCheck(pos, results, 'watch');
      last = shown;
      if (passed && cli.flags['advance'] === true) {
        const moved = await j.pass(pos, 'learner');
        const to = moved.to;
        if (!cli.json) {
          // On the live screen these lead the next frame; otherwise they print as they come.
          const said = [
            ...(moved.closing ? ['', await renderClosing(moved.closing, cli.color)] : []),
            ...moved.skipped.map((k) => `Skipping chapter ${k.chapter}: ${k.reason}`),
            to ? `✔ ${pos.chapter.id}/${pos.step} passed; now on ${to.chapter.id}/${to.step} (workshop show)` : '✔ that was the last step',
          ];
          if (screen && to) notes = said;
          else {
            screen?.leave();
            cli.out(said.join('\n'));
          }
        }
        if (!to) stop = true;
        last = '';
      }
      if (once || stop) return passed ? 0 : 1;
      watcher?.close();
      try {
        watcher = fsWatch(j.ws.chapterDir(pos.chapter.id), { recursive: true }, changed);
      } catch {
        watcher = undefined; // the folder may not exist yet; the timer still runs
      }
      let timer: NodeJS.Timeout | undefined;
      if (!wakePending && !stop)
        await new Promise<void>((r) => {
          wake = r;
          timer = setTimeout(fire, interval * 1000);
        });
      clearTimeout(timer);
      if (stop) return 0;
    }
  } finally {
    clearTimeout(settle);
    stopMounts?.();
    screen?.leave();
    watcher?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export default defineCommand({
  meta: { name: 'watch', summary: 're-verify on a timer and on workspace changes', usage: 'watch [--advance] [--interval SECONDS]', exit: '0' },
  needs: { root: true },
  flags: {
    advance: { type: 'boolean', describe: 'advance when the step passes' },
    interval: { type: 'string', value: 'SECONDS', describe: 're-check every SECONDS (default 2)' },
    once: { type: 'boolean', describe: 'check once and exit (for scripts)' },
  },
  run: watch,
});
