// `workshop answer [id] [answer]`: answers the step's question; renders the engine's outcome.
import { answerQuestion, type AnswerOutcome } from '../../engine/answer.ts';
import { questionMarkdown } from '../../render/question.ts';
import { renderMarkdown } from '../../render/markdown.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

/** An explanation's inline markdown as plain text: `code` and *emphasis* without their marks. */
const plain = (s: string): string => s.replace(/`([^`]*)`/g, '$1').replace(/\*([^*]+)\*/g, '$1');

/** Pure: the lines an outcome prints (the question itself is rendered as markdown apart). */
export function answerLines(o: AnswerOutcome, color: boolean): string[] {
  const st = styler(color);
  switch (o.kind) {
    case 'none':
      return [`No open question in this step (${o.step}). Questions never block \`workshop next\` unless the step says so.`];
    case 'show':
      return [];
    case 'invalid':
      return [`error: ${o.message}`];
    case 'predicted':
      return [`Your prediction for ${o.q.id}: ${o.prediction}`, `Now run the step's commands, then \`workshop answer ${o.q.id}\` compares it with what the kernel holds.`];
    case 'not-yet':
      return [`Your prediction for ${o.q.id} is ${o.prediction}, but there is nothing to compare it with yet: run the step's commands first, then \`workshop answer ${o.q.id}\` again.`];
    case 'right':
      return [st('green', `✔ Right${o.tries === 1 ? ', on the first try' : ''}: ${o.given}`), ...(o.why ? [plain(o.why)] : [])];
    case 'wrong':
      return [
        st('red', `✘ Not quite: ${o.given}${o.actual === undefined ? '' : ` (the kernel holds ${o.actual})`}`),
        ...(o.why ? [plain(o.why)] : []),
        o.actual === undefined ? `Try again: \`workshop answer ${o.q.id} …\`` : 'The prediction is recorded as it was; read the explanation and move on with `workshop next`.',
      ];
  }
}

async function answer(cli: Cli): Promise<number> {
  const o = await answerQuestion(cli.journey(), cli.positionals);
  if (cli.json) {
    cli.emit({ ...o, q: 'q' in o ? { id: o.q.id, kind: o.q.kind, step: o.q.step } : undefined });
    return o.kind === 'invalid' ? 2 : o.kind === 'wrong' ? 1 : 0;
  }
  if (o.kind === 'show') {
    cli.out(await renderMarkdown(questionMarkdown(o.q), cli.color));
    if (o.pending !== undefined) cli.out(`Your prediction: ${o.pending}`);
  }
  const width = terminalWidth();
  for (const line of answerLines(o, cli.color))
    if (line.startsWith('error: ')) cli.err(wrapText(line, width));
  else cli.out(wrapText(line, width));
  return o.kind === 'invalid' ? 2 : o.kind === 'wrong' ? 1 : 0;
}

export default defineCommand({
  meta: {
    name: 'answer',
    summary: "answer the step's question: a letter, a word, or a prediction that the kernel then judges",
    usage: 'answer [id] [answer]',
    exit: '0 right or recorded, 1 wrong, 2 not an answer',
  },
  maxArgs: 20,
  run: answer,
});
