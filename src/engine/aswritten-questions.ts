// `test --as-written` answers the questions of each step (issue 28), after the step's blocks ran
// and before `workshop next`: a choice with its right letter, an exact answer with itself, and a
// prediction with the value the state picture holds, which must be there and be judged right.
// A pattern has no single key: it is checked by lint and the unit tests, not here.
import type { StateDocument } from '../contract/state.ts';
import { choiceLetter, type Question } from '../lessons/questions.ts';
import { valueAt } from './answer.ts';

type Ws = (args: string[], timeoutMs?: number) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/** Pure: what the as-written learner answers to a question, given the state's value for a prediction. */
export function keyOf(q: Question, stateValue: string | undefined): string | undefined {
  if (q.kind === 'choice') {
    const i = q.choices.findIndex((c) => c.right);
    return i < 0 ? undefined : choiceLetter(i);
  }
  if (q.kind === 'typed') return 'exact' in q.match ? q.match.exact : undefined;
  return stateValue;
}

const kindOf = (stdout: string): string => {
  try {
    const v = JSON.parse(stdout) as { kind?: unknown };
    return typeof v.kind === 'string' ? v.kind : '?';
  } catch {
    return '?';
  }
};

/** Answers each question through `workshop answer`; returns what went wrong, one line per question. */
export async function answerAsWritten(ws: Ws, chapter: string, questions: readonly Question[]): Promise<string[]> {
  const problems: string[] = [];
  for (const q of questions) {
    let value: string | undefined;
    if (q.kind === 'predict') {
      const st = await ws(['--json', 'state', chapter]);
      value = st.code === 0 ? valueAt(JSON.parse(st.stdout) as StateDocument, q.family, q.path) : undefined;
      if (value === undefined) {
        // what `workshop state` said, so that a failure in the guest can be read from its report
        const said = st.code === 0 ? st.stdout.replace(/\s+/g, ' ').slice(0, 600) : `exit ${st.code ?? 'signal'}: ${st.stderr.trim().split('\n').slice(-2).join(' / ')}`;
        problems.push(`question ${q.id}: the state holds nothing at ${[q.family, ...q.path].join('.')} after the step's blocks (workshop state: ${said})`);
        continue;
      }
    }
    const key = keyOf(q, value);
    if (key === undefined) continue;
    const first = await ws(['--json', 'answer', q.id, key]);
    const judged = q.kind === 'predict' ? await ws(['--json', 'answer', q.id]) : first;
    const kind = kindOf(judged.stdout);
    if (kind !== 'right') problems.push(`question ${q.id}: \`workshop answer ${q.id} ${key}\` was judged ${kind}${judged.stderr.trim() ? `: ${judged.stderr.trim().split('\n').slice(-1)[0] ?? ''}` : ''}`);
  }
  return problems;
}
