// `workshop watch [--advance]`: re-verify whenever something a check can see changes (files in
// the chapter folder, mounts, links, addresses and routes, cgroups: engine/changes.ts), and on a timer for
// what fires no event (btrfs properties). It renders; the event sources live in the engine.
import { wakeups, watchChanges } from '../../engine/changes.ts';
import { advance, watchStep } from '../../engine/journey-steps.ts';
import type { Passed } from '../../engine/journey.ts';
import { usageError } from '../../errors.ts';
import { renderResults } from '../../render/table.ts';
import { heldAt, inboxLines } from '../../classroom/inbox.ts';
import type { Cli } from '../cli.ts';
import { flagString } from '../cli.ts';
import { renderClosing } from '../../render/step.ts';
import { defineCommand } from '../command.ts';

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
  const wakes = wakeups();
  const live = !once && !cli.json && process.stdout.isTTY === true;
  const screen = live ? liveScreen(cli.stream) : undefined;
  const changes = once ? undefined : await watchChanges(wakes.changed);
  let notes: string[] = [];
  process.once('SIGINT', wakes.stop);
  process.once('SIGTERM', wakes.stop);
  try {
    for (;;) {
      wakes.seen();
      // a changed table is worth reporting (to the class, if one is joined); the same one again is not
      const { pos, address, results, passed, dir } = await watchStep(j, (l) => cli.err(l), (v) => JSON.stringify(v.results) !== last);
      // the instructor's messages and hold (issue 22), as the sender last fetched them: live
      const room = cli.json ? [] : inboxLines(cli.home);
      const shown = JSON.stringify([results, room]);
      if (cli.json) {
        if (shown !== last || once) cli.stream(`${JSON.stringify({ step: address, passed, results })}\n`);
      } else if (shown !== last) {
        const frame = [`watching ${address} (every ${interval} s, on changes in ${dir}, mounts, links and cgroups; Ctrl-C stops)`, ...room, ...notes, '', renderResults(results, cli.color)].join('\n');
        if (screen) screen.draw(frame);
        else cli.out(frame);
        notes = [];
      }
      last = shown;
      if (passed && cli.flags['advance'] === true && heldAt(cli.home) !== address) {
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
        // the new step's table now, with the lines above: not after the next change or the timer
        if (moved.to && !once) continue;
      }
      if (once || wakes.stopped) return passed ? 0 : 1;
      changes?.follow(dir);
      await wakes.wait(interval * 1000);
      if (wakes.stopped) return 0;
    }
  } finally {
    wakes.dispose();
    changes?.stop();
    screen?.leave();
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
