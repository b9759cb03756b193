// `workshop ask ["text"]`: raise a hand in the class (issue 22). The question goes through the
// outbox like every report; the dashboard shows it with the learner's latest failing table, and
// the hand drops when the instructor answers with a message.
import { QUESTION_CHARS } from '../../classroom/contract.ts';
import { enqueue, readMembership } from '../../classroom/outbox.ts';
import { askedReport, startSender } from '../../classroom/reporter.ts';
import { visible } from '../../classroom/safe-text.ts';
import { usageError } from '../../errors.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function ask(cli: Cli): Promise<number> {
  const m = readMembership(cli.home);
  if (!m) throw usageError('you are not in a class: there is no one to ask', 'join one first: workshop classroom join URL CODE --name NAME');
  const question = cli.positionals.join(' ').trim();
  if (question.length > QUESTION_CHARS) throw usageError(`the question is ${question.length} characters; at most ${QUESTION_CHARS}`, 'say it shorter: the instructor comes to you');
  const pos = cli.journey().current();
  const step = `${pos.chapter.id}/${pos.step}`;
  enqueue(cli.home, askedReport(step, question));
  if (process.argv[1]) startSender(cli.home, process.argv[1]);
  if (cli.json) cli.emit({ asked: step, question });
  else cli.out(visible(`Your hand is up in the class at ${m.url}, at ${step}: the instructor sees your question and your latest check table. Their answer shows in \`workshop status\`.`));
  return 0;
}

export default defineCommand({
  meta: { name: 'ask', summary: 'raise a hand in the class, with a question: the instructor answers with a message', usage: 'ask ["question"]', exit: '0; 2 not in a class' },
  maxArgs: Number.POSITIVE_INFINITY,
  run: ask,
});
