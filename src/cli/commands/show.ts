// `workshop show [step]`: the step's text, rendered for the terminal or as plain text.
import { stepView, type StepView } from '../../engine/journey-steps.ts';
import { renderStep, stepMarkdown } from '../../render/step.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

/** Prints a step as `show` does (next after a pass, goto, a restore). */
export async function printStep(cli: Cli, view: StepView): Promise<void> {
  cli.out(await renderStep(view, cli.color));
}

async function show(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  const pos = arg ? j.find(arg) : j.current();
  // arriving at a chapter records its start (and its nonce, which the text shows)
  await j.arrive(pos.chapter);
  if (cli.json) {
    const markdown = stepMarkdown(stepView(j, pos));
    cli.emit({ chapter: pos.chapter.id, step: pos.step, title: pos.chapter.text.steps[pos.index]?.title ?? '', markdown });
    return 0;
  }
  await printStep(cli, stepView(j, pos));
  return 0;
}

export default defineCommand({
  meta: { name: 'show', summary: 'show a step (default: the current one)', usage: 'show [chapter/step]', exit: '0' },
  maxArgs: 1,
  run: show,
});
