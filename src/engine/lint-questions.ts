// lint's rule for question blocks (issue 28): each chapter.md's questions parsed as `answer` reads
// them, every problem with its file and line. A predict= must name a family the chapter draws.
import type { StateSpec } from '../contract/state.ts';
import type { LessonProblem } from '../lessons/catalog.ts';
import { parseQuestions } from '../lessons/questions.ts';
import type { LintRule } from './lint-rules.ts';
import { viewsOf } from './state/index.ts';

/** Pure: the problems of a chapter.md's question blocks, given the state families the chapter draws. */
export function questionProblems(mdPath: string, md: string, state: StateSpec | undefined): LessonProblem[] {
  const { questions, problems } = parseQuestions(md);
  const out: LessonProblem[] = problems.map((p) => ({ file: mdPath, ...p }));
  const families = new Set<string>(viewsOf(state).map((v) => v.family));
  for (const q of questions) {
    if (q.kind === 'predict' && !families.has(q.family)) {
      const drawn = [...families].join(', ') || 'none: add state to defineChapter';
      out.push({ file: mdPath, line: q.line, message: `question "${q.id}" predicts ${q.family}, which this chapter does not draw (its state families: ${drawn})` });
    }
  }
  return out;
}

/** The rule: ids unique, one right choice, an explanation for each wrong answer, a prediction's path (docs/questions.md). */
export const questionBlocks: LintRule = ({ entry, md, loaded }) => questionProblems(entry.mdPath, md, loaded.def.state);
