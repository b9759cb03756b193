// The learner's answers to a chapter's questions (issue 28): answers.json in the home, apart from
// state.json, so that a question never marks a step done or undone. Small and free of heavy
// imports: `status` and `show` read it to name the open question.
import { join } from 'node:path';
import { parseQuestions } from '../lessons/questions.ts';
import { isRecord } from '../sys/lang.ts';
import { changeRecord, parseRecord, readRecord, type RecordKind } from './json-record.ts';

export const ANSWERS_FORMAT = 1;

/** One question's record: `chapter/id`. */
export interface AnswerEntry {
  chapter: string;
  question: string;
  /** answers judged so far (a prediction counts when it is compared) */
  tries: number;
  /** how the first judged answer went: what the class sees */
  firstTry: 'right' | 'wrong';
  result: 'right' | 'wrong';
  /** a predict-then-run question: the prediction waiting for the block to run */
  pending?: string;
  at: number;
}

export interface AnswerBook {
  formatVersion: typeof ANSWERS_FORMAT;
  answers: Record<string, AnswerEntry>;
}

export const emptyAnswers = (): AnswerBook => ({ formatVersion: ANSWERS_FORMAT, answers: {} });
export const answersPath = (home: string): string => join(home, 'answers.json');
export const answerKey = (chapter: string, question: string): string => `${chapter}/${question}`;

const ANSWERS: RecordKind<AnswerBook> = {
  path: answersPath,
  empty: emptyAnswers,
  accept: (v) => (isRecord(v) && v['formatVersion'] === ANSWERS_FORMAT && isRecord(v['answers']) ? (v as unknown as AnswerBook) : undefined),
  what: 'an answer record',
  wayOut: 'it holds only your answers to questions, not your progress: remove it (rm PATH)',
  lost: 'the answer was not recorded',
};

/** Pure: the book in a file's text; a file that is not one is refused with the way out. */
export const parseAnswers = (text: string, path: string): AnswerBook => parseRecord(ANSWERS, text, path);

export const readAnswers = (home: string): AnswerBook => readRecord(ANSWERS, home);

/** Changes the book under the workspace lock, on a fresh read, and writes it atomically. */
export const changeAnswers = <T>(home: string, command: string, fn: (book: AnswerBook) => T): Promise<T> => changeRecord(ANSWERS, home, command, fn);

/** Pure: the entry after one judged answer. */
export function judged(prev: AnswerEntry | undefined, chapter: string, question: string, result: 'right' | 'wrong', now: number): AnswerEntry {
  return { chapter, question, tries: (prev?.tries ?? 0) + 1, firstTry: prev?.firstTry ?? result, result: prev?.result === 'right' ? 'right' : result, at: now };
}

/**
 * The id of the first question of a step's text not yet answered right, or undefined. `status`
 * asks it on every run: a step without a question block costs one `includes`, and a record that
 * cannot be read names no question rather than failing the status.
 */
export function openQuestionIn(body: string, chapter: string, home: string): string | undefined {
  return openQuestionsIn(body, chapter, home)[0]?.id;
}

/** The questions of a step's text not yet answered right, in order. */
function openQuestionsIn(body: string, chapter: string, home: string): Array<{ id: string; required: boolean }> {
  if (!body.includes('::: question')) return [];
  let book: AnswerBook;
  try {
    book = readAnswers(home);
  } catch {
    book = emptyAnswers();
  }
  return parseQuestions(body).questions.filter((q) => book.answers[answerKey(chapter, q.id)]?.result !== 'right');
}

/** A row of the step's table per `required` question not yet answered right: `next` waits for them. */
export function requiredQuestionRows(body: string, chapter: string, home: string): Array<{ status: 'fail'; check: string; expected: string; actual: string; hint: string }> {
  return openQuestionsIn(body, chapter, home)
    .filter((q) => q.required)
    .map((q) => ({ status: 'fail', check: `question ${q.id} is answered`, expected: 'the right answer', actual: 'not answered right yet', hint: `workshop answer ${q.id}` }));
}
