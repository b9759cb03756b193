// A question as the learner reads it in `show` and `answer`: the prompt and lettered choices,
// never the key or the explanations (issue 28; the block's format is in lessons/questions.ts).
import { choiceLetter, parseQuestions, type Question } from '../lessons/questions.ts';

const CLOSE = /^:::\s*$/;

/** Pure: how the learner reads a question in `show`: the prompt, lettered choices, never the key. */
export function questionMarkdown(q: Question): string {
  const how =
    q.kind === 'choice'
      ? `answer with \`workshop answer ${q.id} LETTER\``
      : q.kind === 'typed'
        ? `answer with \`workshop answer ${q.id} YOUR-ANSWER\``
        : `predict before you run the next block: \`workshop answer ${q.id} YOUR-PREDICTION\`, then run it and \`workshop answer ${q.id}\` compares with the kernel`;
  const lines = [`**Question${q.required ? ', required before `workshop next`' : ''}** (${q.id}): ${q.prompt}`, ''];
  if (q.kind === 'choice') q.choices.forEach((c, i) => lines.push(`- ${choiceLetter(i)}) ${c.text}`));
  lines.push('', `${how[0]?.toUpperCase() ?? ''}${how.slice(1)}.`);
  return lines.join('\n');
}

/** Pure: a step body with each question block replaced by its learner view (the key stays hidden). */
export function withQuestionViews(body: string): string {
  if (!body.includes(':::')) return body;
  const { questions } = parseQuestions(body);
  if (questions.length === 0) return body;
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let skipping = false;
  lines.forEach((line, i) => {
    const q = questions.find((x) => x.line === i + 1);
    if (q) {
      out.push(questionMarkdown(q));
      skipping = true;
      return;
    }
    if (skipping) {
      if (CLOSE.test(line)) skipping = false;
      return;
    }
    out.push(line);
  });
  return out.join('\n');
}
