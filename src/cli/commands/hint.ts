// `workshop hint`: the next hint of the current step, remembered in state.json.
import { fillHints, hintsCachePath, stepHints } from '../../engine/hints.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';
import { activeDrill } from '../../engine/drill-record.ts';

async function hint(cli: Cli): Promise<number> {
  // During a drill, the drill's hints (commands/drill.ts).
  if (activeDrill(cli.home)) return (await import('./drill.ts')).drillHint(cli);
  const j = cli.journey();
  const pos = j.current();
  const raw = await stepHints(pos.chapter, pos.step, hintsCachePath(cli.home), () => j.load(pos.chapter));
  const hints = fillHints(raw, j.place(pos.chapter.id), j.ws.chapterDir(pos.chapter.id));
  const { shown: n, exhausted, saved } = await j.showHint(pos, hints.length);
  if (cli.json) {
    cli.emit({ step: `${pos.chapter.id}/${pos.step}`, shown: n, total: hints.length, hints: hints.slice(0, n), exhausted, saved });
    return 0;
  }
  const text = hints[n - 1];
  // wrapped at word boundaries to the terminal: the terminal's own wrap broke words (`uid.tx|t.`)
  const width = terminalWidth();
  if (text === undefined) cli.out('This step has no hints.');
  else cli.out(`Hint ${n}/${hints.length} for ${pos.chapter.id}/${pos.step}:\n${wrapText(`  ${text}`, width)}`);
  if (exhausted) cli.out(wrapText('That was the last hint. `workshop solve` runs the reference solution and shows each command.', width));
  if (!saved) cli.err('(the hint count is not kept: run as root to keep it)');
  return 0;
}

export default defineCommand({
  meta: { name: 'hint', summary: 'show the next hint of the current step', usage: 'hint', exit: '0' },
  run: hint,
});
