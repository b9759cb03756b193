// lint's questions that only a chapter's code can answer, asked in the lesson host (host-serve.ts):
// fields that the format does not have (the loader ignores them, so a typo such as `hint:` or
// `mutant:` silently drops what the author meant), and what each step's verify returns when
// called as `next` calls it: a list of checks, not a string, a promise or a lone check.
import { readFileSync } from 'node:fs';
import type { Check } from '../checks/check.ts';
import { describeFailure, safeString } from '../errors.ts';
import { isRecord } from '../sys/lang.ts';
import type { LessonProblem } from './catalog.ts';
import type { ChapterDef, StepContext, StepDef } from './define.ts';
import { propertyLine, scanStepKeys } from './scan.ts';

/** Every field of a chapter, a step and a mutant object; the types make sure none is missing. */
const CHAPTER_FIELDS = ['formatVersion', 'id', 'title', 'requires', 'env', 'setup', 'steps', 'cleanup', 'madeOutside', 'removes', 'shellVars', 'state'] as const satisfies ReadonlyArray<keyof ChapterDef>;
const STEP_FIELDS = ['verify', 'solve', 'hints', 'mutants', 'controls', 'undoes'] as const satisfies ReadonlyArray<keyof StepDef>;
const MUTANT_FIELDS = ['apply', 'revert', 'diagnosis', 'recovery'] as const;
type Missing<T, L extends readonly unknown[]> = Exclude<keyof T, L[number]>;
// a field added to ChapterDef or StepDef must be added to the lists above (a type error otherwise)
const complete: [Missing<ChapterDef, typeof CHAPTER_FIELDS>, Missing<StepDef, typeof STEP_FIELDS>] extends [never, never] ? true : false = true;
void complete;

/** Levenshtein distance, for "did you mean": small strings only. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** `name` is not one of `known`: what the message says, with the nearest known field. */
export function unknownField(what: string, name: string, known: readonly string[]): string {
  const near = known.find((k) => k.toLowerCase() === name.toLowerCase() || distance(k, name) <= 2);
  return `${what} has an unknown field "${name}"${near ? ` (did you mean "${near}"?)` : ''}: workshop ignores it; the fields are ${known.join(', ')}`;
}

/** The first line at or after `from` where `key` is written as a property or method. */
function keyLineAfter(source: string, from: number, key: string): number {
  const lines = source.split('\n');
  const re = new RegExp(`(?:^|[\\s{,])['"]?${key.replace(/[^\w$]/g, '\\$&')}['"]?\\s*[:(]`);
  for (let i = Math.max(0, from - 1); i < lines.length; i++) if (re.test(lines[i] ?? '')) return i + 1;
  return from;
}

const describeValue = (v: unknown): string => {
  if (v instanceof Promise) return 'a Promise (is verify async? it must return the checks themselves; each check may be async)';
  if (isRecord(v) && typeof v['run'] === 'function') return 'a single check (wrap it in a list: [check])';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v)}`;
  return safeString(v);
};

const isCheck = (c: unknown): c is Check => isRecord(c) && typeof c['run'] === 'function';

/** What verify returns, called with `ctx`: a list of checks, or why not. Never throws. */
function verifyProblem(step: StepDef, ctx: StepContext): string | undefined {
  let got: unknown;
  try {
    got = step.verify(ctx);
  } catch (err) {
    return `verify throws when it is called: ${describeFailure(err)}`;
  }
  if (!Array.isArray(got)) return `verify returns ${describeValue(got)}, not a list of checks (build them with defineCheck or the library's checks)`;
  const bad = got.findIndex((c) => !isCheck(c));
  return bad < 0 ? undefined : `verify's item ${bad + 1} is ${describeValue(got[bad])}, not a check (build checks with defineCheck)`;
}

/** The fields of one step that the format does not have, and its verify's return. */
function stepProblems(file: string, source: string, id: string, stepLine: number, step: StepDef, ctx: StepContext): LessonProblem[] {
  const out: LessonProblem[] = [];
  for (const k of Object.keys(step)) if (!(STEP_FIELDS as readonly string[]).includes(k)) out.push({ file, line: keyLineAfter(source, stepLine, k), message: unknownField(`step "${id}"`, k, STEP_FIELDS) });
  for (const [name, m] of Object.entries(step.mutants ?? {})) {
    if (!isRecord(m)) continue;
    for (const k of Object.keys(m)) if (!(MUTANT_FIELDS as readonly string[]).includes(k)) out.push({ file, line: keyLineAfter(source, keyLineAfter(source, stepLine, name), k), message: unknownField(`step "${id}": mutant "${name}"`, k, MUTANT_FIELDS) });
  }
  const bad = verifyProblem(step, ctx);
  if (bad) out.push({ file, line: keyLineAfter(source, stepLine, 'verify'), message: `step "${id}": ${bad}` });
  return out;
}

/** lint's problems of a loaded (validated) chapter; `ctxOf` gives a step's context as `next` would. */
export function inspectChapter(def: ChapterDef, file: string, ctxOf: (step: string) => StepContext): LessonProblem[] {
  let source = '';
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    // gone since it was loaded: the problems have line 1
  }
  const out: LessonProblem[] = [];
  for (const k of Object.keys(def)) if (!(CHAPTER_FIELDS as readonly string[]).includes(k)) out.push({ file, line: propertyLine(source, k), message: unknownField('the chapter', k, CHAPTER_FIELDS) });
  const keys = scanStepKeys(source);
  for (const [id, step] of Object.entries(def.steps)) out.push(...stepProblems(file, source, id, keys.find((k) => k.key === id)?.line ?? propertyLine(source, 'steps'), step, ctxOf(id)));
  return out;
}

