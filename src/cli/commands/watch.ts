// `workshop watch [--advance]`: re-verify on a timer, whenever the chapter folder changes, and
// whenever a mount comes or goes (mount steps react within a few hundred ms). Other kernel state
// (links, btrfs properties) fires no event, hence the timer too.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { advance, onMountChange, watchStep } from '../../engine/journey-steps.ts';
import type { Passed } from '../../engine/journey.ts';
import { usageError } from '../../errors.ts';
import { renderResults } from '../../render/table.ts';
import type { Cli } from '../cli.ts';
import { flagString } from '../cli.ts';
import { renderClosing } from '../../render/step.ts';
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

/**
 * What wakes the loop: a change once nothing else has changed for SETTLE_MS, a signal, the timer.
 * A wake while a verify runs is kept for the wait after it: the change it reports came too late
 * for the verify that is running.
 */
function wakeups() {
  let wake: (() => void) | undefined;
  let settle: NodeJS.Timeout | undefined;
  let pending = false;
  let stopped = false;
  const fire = () => {
    const w = wake;
    wake = undefined;
    if (w) w();
    else pending = true;
  };
  return {
    changed: () => {
      clearTimeout(settle);
      settle = setTimeout(fire, SETTLE_MS);
    },
    stop: () => {
      stopped = true;
      fire();
    },
    get stopped() {
      return stopped;
    },
    /** the verify about to run sees every change made so far */
    seen: () => {
      pending = false;
    },
    async wait(ms: number): Promise<void> {
      if (pending || stopped) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(fire, ms);
      });
      clearTimeout(timer);
    },
    dispose: () => clearTimeout(settle),
  };
}

/** What `--advance` says when the step passed: the closing, the chapters skipped, where the learner is now. */
async function advanceLines(moved: Passed, address: string, color: boolean): Promise<string[]> {
  const to = moved.to;
  return [
    ...(moved.closing ? ['', await renderClosing(moved.closing, color)] : []),
    ...moved.skipped.map((k) => `Skipping chapter ${k.chapter}: ${k.reason}`),
    to ? `✔ ${address} passed; now on ${to.chapter.id}/${to.step} (workshop show)` : '✔ that was the last step',
  ];
}

async function watch(cli: Cli): Promise<number> {
  const interval = Number(flagString(cli.flags, 'interval') ?? '2');
  if (!Number.isFinite(interval) || interval < 0.2) throw usageError('--interval must be a number of seconds ≥ 0.2');
  const j = cli.journey();
  const once = cli.flags['once'] === true;
  let last = '';
  let watcher: FSWatcher | undefined;
  const wakes = wakeups();
  const live = !once && !cli.json && process.stdout.isTTY === true;
  const screen = live ? liveScreen(cli.stream) : undefined;
  const stopMounts = once ? undefined : await onMountChange(wakes.changed);
  let notes: string[] = [];
  process.once('SIGINT', wakes.stop);
  process.once('SIGTERM', wakes.stop);
  try {
    for (;;) {
      wakes.seen();
      // a changed table is worth reporting (to the class, if one is joined); the same one again is not
      const { pos, address, results, passed, dir } = await watchStep(j, (l) => cli.err(l), (v) => JSON.stringify(v.results) !== last);
      const shown = JSON.stringify(results);
      if (cli.json) {
        if (shown !== last || once) cli.stream(`${JSON.stringify({ step: address, passed, results })}\n`);
      } else if (shown !== last) {
        const frame = [`watching ${address} (every ${interval} s, on changes in ${dir} and on mounts; Ctrl-C stops)`, ...notes, '', renderResults(results, cli.color)].join('\n');
        if (screen) screen.draw(frame);
        else cli.out(frame);
        notes = [];
      }
      last = shown;
      if (passed && cli.flags['advance'] === true) {
        const moved = await advance(j, pos);
        if (!cli.json) {
          // On the live screen these lead the next frame; otherwise they print as they come.
          const said = await advanceLines(moved, address, cli.color);
          if (screen && moved.to) notes = said;
          else {
            screen?.leave();
            cli.out(said.join('\n'));
          }
        }
        if (!moved.to) wakes.stop();
        last = '';
      }
      if (once || wakes.stopped) return passed ? 0 : 1;
      watcher?.close();
      try {
        watcher = fsWatch(dir, { recursive: true }, wakes.changed);
      } catch {
        watcher = undefined; // the folder may not exist yet; the timer still runs
      }
      await wakes.wait(interval * 1000);
      if (wakes.stopped) return 0;
    }
  } finally {
    wakes.dispose();
    stopMounts?.();
    screen?.leave();
    watcher?.close();
    process.off('SIGINT', wakes.stop);
    process.off('SIGTERM', wakes.stop);
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
