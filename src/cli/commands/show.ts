// `workshop show [step]`: the step's text, rendered for the terminal or as plain text.
import { stepMarkdown } from '../../render/step.ts';
import type { Cli } from '../cli.ts';
import { printStep } from '../verify.ts';
import { defineCommand } from '../command.ts';

async function show(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const pos = arg ? j.find(arg) : j.current();
  // arriving at a chapter records its start (and its nonce, which the text shows)
  await j.arrive(pos.chapter);
  if (cli.json) {
    const markdown = stepMarkdown({ chapter: pos.chapter, index: pos.index, nonce: j.place(pos.chapter.id)?.nonce, dir: j.ws.chapterDir(pos.chapter.id) });
    cli.emit({ chapter: pos.chapter.id, step: pos.step, title: pos.chapter.text.steps[pos.index]?.title ?? '', markdown });
    return 0;
  }
  await printStep(cli, pos);
  return 0;
}

export default defineCommand({
  meta: { name: 'show', summary: 'show a step (default: the current one)', usage: 'show [chapter/step]', exit: '0' },
  maxArgs: 1,
  run: show,
});
