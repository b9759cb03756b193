// `workshop answer`'s use case (issue 28): which question, judged how, recorded where. A choice or
// a typed answer is judged against the chapter's key; a prediction is recorded first and judged
// later against what the chapter's state picture (the probes of `workshop state`) reads.
import { readFileSync } from 'node:fs';
import { allPassed } from '../checks/check.ts';
import type { StateDocument } from '../contract/state.ts';
import type { ChapterEntry } from '../lessons/catalog.ts';
import { choiceLetter, parseQuestions, type Question } from '../lessons/questions.ts';
import { isRecord } from '../sys/lang.ts';
import { answerKey, changeAnswers, judged, readAnswers, type AnswerBook } from './answer-record.ts';
import { checkContext } from './context.ts';
import type { Journey, Position } from './journey.ts';
import { verifyStep } from './runner.ts';
import { describeState } from './state/index.ts';

/** The chapter's questions, read from its chapter.md as it is now. */
export function chapterQuestions(entry: Pick<ChapterEntry, 'mdPath'>): Question[] {
  try {
    return parseQuestions(readFileSync(entry.mdPath, 'utf8')).questions;
  } catch {
    return [];
  }
}

/** Pure: the first question of the step not yet answered right (a waiting prediction counts as open). */
export function openQuestion(questions: readonly Question[], step: string, chapter: string, book: AnswerBook): Question | undefined {
  return questions.find((q) => q.step === step && book.answers[answerKey(chapter, q.id)]?.result !== 'right');
}

/** An element of a picture's list named by a path part: its name (`lo` for `lo (ws-box)`) or its path's last part. */
function named(e: Record<string, unknown>, part: string): boolean {
  const name = typeof e['name'] === 'string' ? e['name'] : '';
  const path = typeof e['path'] === 'string' ? e['path'] : '';
  return name === part || name.startsWith(`${part} (`) || path === part || path.endsWith(`/${part}`);
}

/** Pure: the value at `path` in the family's picture; a list takes an index, a name or `length`. */
export function valueAt(doc: StateDocument, family: string, path: readonly string[]): string | undefined {
  let v: unknown = doc.pictures.find((p) => p.family === family);
  for (const part of path) {
    if (Array.isArray(v)) v = part === 'length' ? v.length : /^\d+$/.test(part) ? v[Number(part)] : v.find((e) => isRecord(e) && named(e, part));
    else if (isRecord(v)) v = v[part];
    else return undefined;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return String(v);
  return undefined;
}

const YES = new Set(['yes', 'y', 'true']);
const NO = new Set(['no', 'n', 'false']);

/** Pure: a prediction compared with the state's value: numbers as numbers, yes/no as booleans. */
export function predictionHolds(prediction: string, actual: string): boolean {
  const p = prediction.trim().toLowerCase();
  if (actual === 'true' || actual === 'false') return (actual === 'true' ? YES : NO).has(p);
  if (/^-?\d+(\.\d+)?$/.test(actual) && p !== '') return Number(p) === Number(actual);
  return p === actual.toLowerCase();
}

/** Pure: the index of the choice a learner typed (a letter, or a number from 1), or undefined. */
export function choiceIndex(text: string, count: number): number | undefined {
  const t = text.trim().toLowerCase();
  const i = /^[a-z]$/.test(t) ? t.charCodeAt(0) - 97 : /^\d+$/.test(t) ? Number(t) - 1 : -1;
  return i >= 0 && i < count ? i : undefined;
}

/** Pure: a choice or typed answer against the key: right or wrong, and what to say. */
export function judgeKey(q: Question, text: string): { result: 'right' | 'wrong'; why: string } | { result: 'invalid'; message: string } {
  if (q.kind === 'choice') {
    const i = choiceIndex(text, q.choices.length);
    if (i === undefined) return { result: 'invalid', message: `answer with a letter from a to ${choiceLetter(q.choices.length - 1)}` };
    const c = q.choices[i];
    return c?.right ? { result: 'right', why: c.why } : { result: 'wrong', why: c?.why ?? '' };
  }
  if (q.kind === 'typed') {
    const t = text.trim();
    const ok = 'exact' in q.match ? t === q.match.exact : new RegExp(q.match.pattern).test(t);
    return ok ? { result: 'right', why: '' } : { result: 'wrong', why: q.why };
  }
  return { result: 'invalid', message: 'a prediction is judged against the kernel, not a key' };
}

export type AnswerOutcome =
  | { kind: 'none'; step: string }
  | { kind: 'show'; q: Question; pending: string | undefined }
  | { kind: 'invalid'; q: Question; message: string }
  | { kind: 'right'; q: Question; why: string; tries: number; given: string }
  | { kind: 'wrong'; q: Question; why: string; tries: number; given: string; actual?: string }
  | { kind: 'predicted'; q: Question; prediction: string }
  | { kind: 'not-yet'; q: Question; prediction: string };

/** Which question the words name: `ID [ANSWER…]`, or the open question of the current step. */
function resolve(j: Journey, words: readonly string[]): { pos: Position; questions: Question[]; q: Question | undefined; text: string } {
  const pos = j.current();
  const questions = chapterQuestions(pos.chapter);
  const named = words[0] === undefined ? undefined : questions.find((q) => q.id === words[0]);
  if (named) return { pos, questions, q: named, text: words.slice(1).join(' ') };
  const book = readAnswers(j.ws.home);
  return { pos, questions, q: openQuestion(questions, pos.step, pos.chapter.id, book), text: words.join(' ') };
}

/**
 * Reads the state the prediction names, once the step's checks pass (so the block has run: before
 * it, the state may hold the value from before, and a prediction would be judged on the wrong
 * state); undefined until then.
 */
export async function stateValue(j: Journey, entry: ChapterEntry, q: Question & { kind: 'predict' }): Promise<string | undefined> {
  const place = j.place(entry.id);
  if (!place) return undefined;
  const loaded = await j.load(entry);
  if (q.step !== undefined && loaded.def.steps[q.step] && !allPassed(await verifyStep(loaded, q.step, place))) return undefined;
  return valueAt(await describeState(checkContext(place), loaded.def.state), q.family, q.path);
}

async function record(j: Journey, chapter: string, q: Question, result: 'right' | 'wrong'): Promise<number> {
  const tries = await changeAnswers(j.ws.home, 'answer', (book) => {
    const key = answerKey(chapter, q.id);
    const e = judged(book.answers[key], chapter, q.id, result, Date.now());
    book.answers[key] = e;
    return e.tries;
  });
  if (q.step !== undefined) j.answered(`${chapter}/${q.step}`, q.id, result, tries);
  return tries;
}

async function predict(j: Journey, entry: ChapterEntry, q: Question & { kind: 'predict' }, text: string): Promise<AnswerOutcome> {
  const key = answerKey(entry.id, q.id);
  const prev = readAnswers(j.ws.home).answers[key];
  if (text.trim() !== '') {
    await changeAnswers(j.ws.home, 'answer', (book) => {
      const e = book.answers[key];
      book.answers[key] = e ? { ...e, pending: text.trim() } : { chapter: entry.id, question: q.id, tries: 0, firstTry: 'wrong', result: 'wrong', pending: text.trim(), at: Date.now() };
    });
    return { kind: 'predicted', q, prediction: text.trim() };
  }
  const prediction = prev?.pending;
  if (prediction === undefined) return { kind: 'show', q, pending: undefined };
  const actual = await stateValue(j, entry, q);
  if (actual === undefined) return { kind: 'not-yet', q, prediction };
  const result = predictionHolds(prediction, actual) ? 'right' : 'wrong';
  const tries = await changeAnswers(j.ws.home, 'answer', (book) => {
    const e = judged(prev?.tries === 0 ? undefined : prev, entry.id, q.id, result, Date.now());
    book.answers[key] = e;
    return e.tries;
  });
  if (q.step !== undefined) j.answered(`${entry.id}/${q.step}`, q.id, result, tries);
  return result === 'right' ? { kind: 'right', q, why: `the kernel holds ${actual}`, tries, given: prediction } : { kind: 'wrong', q, why: q.why, tries, given: prediction, actual };
}

/** `workshop answer [ID] [ANSWER]`: shows, judges or records, and says what happened. */
export async function answerQuestion(j: Journey, words: readonly string[]): Promise<AnswerOutcome> {
  const { pos, q, text } = resolve(j, words);
  if (!q) return { kind: 'none', step: pos.step };
  if (q.kind === 'predict') return predict(j, pos.chapter, q, text);
  if (text.trim() === '') return { kind: 'show', q, pending: undefined };
  const v = judgeKey(q, text);
  if (v.result === 'invalid') return { kind: 'invalid', q, message: v.message };
  const tries = await record(j, pos.chapter.id, q, v.result);
  return { ...v, kind: v.result, q, tries, given: text.trim() };
}
