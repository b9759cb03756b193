// Questions in chapter.md (issue 28): a fenced `::: question {#id …}` block inside a step. Pure:
// text in, questions and problems (with file lines) out. The format is documented in
// docs/questions.md. Three kinds, told apart by the block's attributes:
//   {#id}                  multiple choice: `- [ ]` / `- [x]` items, each wrong one with a `>` why
//   {#id answer="3"}       a short typed answer, matched exactly (trimmed)
//   {#id pattern="^a+$"}   a short typed answer, matched by a regular expression
//   {#id predict="overlayfs.stacks.0.upper.whiteouts"}
//                          predict-then-run: answered before a block, judged against the value
//                          the chapter's state picture (`workshop state --json`) holds at that path
// `required` among the attributes makes `next` wait until the question is answered right.
import { STEP_ID } from './markdown.ts';

export interface Choice {
  text: string;
  right: boolean;
  /** what the learner reads after choosing it: why it is wrong (or right) */
  why: string;
}

export type QuestionKind =
  | { kind: 'choice'; choices: Choice[] }
  | { kind: 'typed'; match: { exact: string } | { pattern: string } }
  /** family, then the path inside its picture: `overlayfs`, [`stacks`, `0`, `upper`, `whiteouts`] */
  | { kind: 'predict'; family: string; path: string[] };

export type Question = QuestionKind & {
  id: string;
  /** the step (H2 id) the block is in; undefined before the first step */
  step: string | undefined;
  /** 1-based line of the opening `:::` */
  line: number;
  prompt: string;
  /** typed and predict: what a wrong answer is told (for choices, each choice's own `why`) */
  why: string;
  required: boolean;
};

export interface ParsedQuestions {
  questions: Question[];
  problems: Array<{ line: number; message: string }>;
}

const OPEN = /^:::\s*question\b\s*(.*)$/;
const CLOSE = /^:::\s*$/;
const CHOICE = /^\s*[-*]\s+\[( |x|X)\]\s+(.*)$/;
const WHY = /^\s*>\s?(.*)$/;
const ATTR = /(#[^\s}]+)|([a-z]+)(?:="([^"]*)")?/g;
const PATH_PART = /^[A-Za-z0-9_-]+$/;

interface Attrs {
  id: string | undefined;
  values: Map<string, string>;
  flags: Set<string>;
}

function parseAttrs(s: string): Attrs | string {
  const m = /^\{(.*)\}$/.exec(s.trim());
  if (!m) return 'a question needs its id: `::: question {#id}`';
  const out: Attrs = { id: undefined, values: new Map(), flags: new Set() };
  const inner = m[1] ?? '';
  let rest = inner;
  for (const a of inner.matchAll(ATTR)) {
    rest = rest.replace(a[0], '');
    if (a[1]) out.id = a[1].slice(1);
    else if (a[2] && a[3] !== undefined) out.values.set(a[2], a[3]);
    else if (a[2]) out.flags.add(a[2]);
  }
  if (rest.trim() !== '') return `cannot read "${rest.trim()}" in the question's attributes: write {#id}, answer="…", pattern="…", predict="family.path" or required`;
  return out;
}

/** Pure: the kind a block's attributes name, or the problem with them. */
function kindOf(a: Attrs): { kind: 'choice' } | { kind: 'typed'; match: { exact: string } | { pattern: string } } | { kind: 'predict'; family: string; path: string[] } | string {
  const known = ['answer', 'pattern', 'predict'];
  const unknown = [...a.values.keys()].find((k) => !known.includes(k)) ?? [...a.flags].find((f) => f !== 'required');
  if (unknown !== undefined) return `unknown question attribute "${unknown}": use answer="…", pattern="…", predict="family.path" or required`;
  const given = known.filter((k) => a.values.has(k));
  if (given.length > 1) return `a question has one of answer=, pattern= and predict=, not ${given.join(' and ')}`;
  const answer = a.values.get('answer');
  if (answer !== undefined) return answer.trim() === '' ? 'answer="" is empty: write the answer a learner types' : { kind: 'typed', match: { exact: answer.trim() } };
  const pattern = a.values.get('pattern');
  if (pattern !== undefined) {
    try {
      new RegExp(pattern);
    } catch (e) {
      return `pattern="${pattern}" is not a regular expression: ${e instanceof Error ? e.message : String(e)}`;
    }
    return { kind: 'typed', match: { pattern } };
  }
  const predict = a.values.get('predict');
  if (predict !== undefined) {
    const [family, ...path] = predict.split('.');
    if (!family || path.length === 0 || ![family, ...path].every((p) => PATH_PART.test(p))) return `predict="${predict}" must be a family and a path in its state picture, like predict="overlayfs.stacks.0.upper.whiteouts"`;
    return { kind: 'predict', family, path };
  }
  return { kind: 'choice' };
}

interface Block {
  line: number;
  step: string | undefined;
  head: string;
  body: Array<{ n: number; text: string }>;
}

/** The question blocks of a markdown text, outside code fences, with the step each is in. */
function blocks(text: string, firstLine: number, problems: ParsedQuestions['problems']): Block[] {
  const out: Block[] = [];
  let fence: string | undefined;
  let step: string | undefined;
  let open: Block | undefined;
  text.replace(/\r\n/g, '\n').split('\n').forEach((line, i) => {
    const n = firstLine + i;
    const f = /^\s*(```+|~~~+)/.exec(line);
    if (f?.[1]) {
      if (fence === undefined) fence = f[1];
      else if (line.trim().startsWith(fence)) fence = undefined;
    }
    if (fence !== undefined || f?.[1]) return;
    const h = /^##\s+.*\{#([^}]*)\}\s*$/.exec(line);
    if (h) step = h[1];
    if (open) {
      if (CLOSE.test(line)) {
        out.push(open);
        open = undefined;
      } else if (/^#{1,2}\s/.test(line)) {
        problems.push({ line: open.line, message: `question block is not closed: end it with a line ":::" before the heading at line ${n}` });
        open = undefined;
      } else open.body.push({ n, text: line });
      return;
    }
    const o = OPEN.exec(line);
    if (o) open = { line: n, step, head: o[1] ?? '', body: [] };
  });
  if (open) problems.push({ line: open.line, message: 'question block is not closed: end it with a line ":::"' });
  return out;
}

/** Pure: the prompt, the choices (each with the `>` lines after it) and the `>` lines after the prompt. */
function readBody(body: Block['body']): { prompt: string; choices: Choice[]; why: string } {
  const prompt: string[] = [];
  const why: string[] = [];
  const choices: Choice[] = [];
  for (const { text } of body) {
    const c = CHOICE.exec(text);
    const w = WHY.exec(text);
    const last = choices[choices.length - 1];
    if (c) choices.push({ text: (c[2] ?? '').trim(), right: c[1] !== ' ', why: '' });
    else if (w && last) last.why = `${last.why} ${w[1] ?? ''}`.trim();
    else if (w) why.push(w[1] ?? '');
    else if (!last) prompt.push(text);
  }
  return { prompt: prompt.join('\n').trim(), choices, why: why.join(' ').trim() };
}

/** Pure: the problems of one question, as lint reports them. */
function problemsOf(q: Question): string[] {
  const p: string[] = [];
  if (q.prompt === '') p.push(`question "${q.id}" has no text: write the question before its choices`);
  if (q.kind === 'choice') {
    const right = q.choices.filter((c) => c.right).length;
    if (q.choices.length < 2) p.push(`question "${q.id}" needs at least two choices ("- [ ] …", the right one "- [x] …"), or answer=, pattern= or predict=`);
    else if (right !== 1) p.push(`question "${q.id}" has ${right} right choices: mark exactly one with "- [x]"`);
    for (const c of q.choices) if (!c.right && c.why === '') p.push(`question "${q.id}": the wrong choice "${c.text}" has no explanation: add a line "  > why it is wrong" under it`);
  } else if (q.why === '') p.push(`question "${q.id}" has no explanation for a wrong answer: add a line "> …" after the question`);
  return p;
}

/**
 * Pure: every question block of a chapter.md (or of one step's body, with `firstLine` its first
 * line), and what is wrong with them: a missing or repeated id, a kind that cannot be read, not
 * exactly one right choice, a wrong choice without its explanation.
 */
export function parseQuestions(text: string, firstLine = 1): ParsedQuestions {
  const problems: ParsedQuestions['problems'] = [];
  const questions: Question[] = [];
  for (const b of blocks(text, firstLine, problems)) {
    const attrs = parseAttrs(b.head);
    if (typeof attrs === 'string') {
      problems.push({ line: b.line, message: attrs });
      continue;
    }
    if (attrs.id === undefined || !STEP_ID.test(attrs.id)) {
      problems.push({ line: b.line, message: `question id "${attrs.id ?? ''}" must be lowercase letters, digits and dashes: ::: question {#after-umount}` });
      continue;
    }
    const dup = questions.find((q) => q.id === attrs.id);
    if (dup) {
      problems.push({ line: b.line, message: `duplicate question id "${attrs.id}" (first at line ${dup.line})` });
      continue;
    }
    const kind = kindOf(attrs);
    if (typeof kind === 'string') {
      problems.push({ line: b.line, message: kind });
      continue;
    }
    const body = readBody(b.body);
    const base = { id: attrs.id, step: b.step, line: b.line, prompt: body.prompt, why: body.why, required: attrs.flags.has('required') };
    const q: Question = kind.kind === 'choice' ? { ...base, kind: 'choice', choices: body.choices } : { ...base, ...kind };
    if (q.kind !== 'choice' && body.choices.length > 0) problems.push({ line: b.line, message: `question "${q.id}" has choices and ${q.kind === 'typed' ? 'a typed answer' : 'predict='}: choose one kind` });
    if (b.step === undefined) problems.push({ line: b.line, message: `question "${q.id}" is outside a step: put it under a "## … {#step}" heading` });
    for (const m of problemsOf(q)) problems.push({ line: b.line, message: m });
    questions.push(q);
  }
  return { questions, problems };
}

/** The letter a learner types for the i-th choice: a, b, c … */
export const choiceLetter = (i: number): string => String.fromCharCode(97 + i);
