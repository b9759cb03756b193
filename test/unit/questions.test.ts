import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_DOCUMENT_FORMAT, type StateDocument } from '../../src/contract/state.ts';
import { choiceIndex, judgeKey, openQuestion, predictionHolds, valueAt } from '../../src/engine/answer.ts';
import { answersPath, emptyAnswers, judged, openQuestionIn, requiredQuestionRows } from '../../src/engine/answer-record.ts';
import { questionProblems } from '../../src/engine/lint-questions.ts';
import { parseQuestions, type Question } from '../../src/lessons/questions.ts';
import { questionMarkdown, withQuestionViews } from '../../src/render/question.ts';

const step = (body: string): string => `# T\n\n## A step {#s}\n\n${body}\n`;
const messages = (md: string): string[] => parseQuestions(md).problems.map((p) => `${p.line}: ${p.message}`);

const CHOICE = `::: question {#after-umount}
You unmount merged/. What is left in upper/?
- [ ] nothing
  > the upper folder is a plain folder: it keeps what was written
- [x] the files you created and the whiteout of etc/motd
- [ ] a copy of every file of rootfs
  > only what changed is copied up
:::`;

describe('parseQuestions', () => {
  it('reads a multiple choice question with its key and an explanation per wrong choice', () => {
    const { questions, problems } = parseQuestions(step(CHOICE));
    expect(problems).toEqual([]);
    expect(questions).toEqual([
      {
        id: 'after-umount',
        step: 's',
        line: 5,
        prompt: 'You unmount merged/. What is left in upper/?',
        why: '',
        required: false,
        kind: 'choice',
        choices: [
          { text: 'nothing', right: false, why: 'the upper folder is a plain folder: it keeps what was written' },
          { text: 'the files you created and the whiteout of etc/motd', right: true, why: '' },
          { text: 'a copy of every file of rootfs', right: false, why: 'only what changed is copied up' },
        ],
      },
    ]);
  });
  it('reads typed answers, exact and by pattern, a predict-then-run and required', () => {
    const md = step(
      [
        '::: question {#n answer="3" required}\nHow many?\n> three\n:::',
        '::: question {#p pattern="^/tmp/.+$"}\nWhere?\n> under /tmp\n:::',
        '::: question {#w predict="overlayfs.stacks.0.upper.whiteouts"}\nHow many whiteouts?\n> one per deleted name\n:::',
      ].join('\n\n'),
    );
    const { questions, problems } = parseQuestions(md);
    expect(problems).toEqual([]);
    expect(questions.map((q) => ({ id: q.id, kind: q.kind, required: q.required }))).toEqual([
      { id: 'n', kind: 'typed', required: true },
      { id: 'p', kind: 'typed', required: false },
      { id: 'w', kind: 'predict', required: false },
    ]);
    expect(questions[2]).toMatchObject({ family: 'overlayfs', path: ['stacks', '0', 'upper', 'whiteouts'] });
  });
  it('ignores a question inside a code fence', () => {
    expect(parseQuestions(step('```text\n' + CHOICE + '\n```')).questions).toEqual([]);
  });
});

describe('lint catches each malformed question', () => {
  it.each([
    ['no id', '::: question\nQ?\n- [x] a\n- [ ] b\n  > no\n:::', 'a question needs its id'],
    ['a bad id', '::: question {#Bad_Id}\nQ?\n- [x] a\n- [ ] b\n  > no\n:::', 'question id "Bad_Id" must be lowercase'],
    ['no right choice', '::: question {#q}\nQ?\n- [ ] a\n  > no\n- [ ] b\n  > no\n:::', 'question "q" has 0 right choices'],
    ['two right choices', '::: question {#q}\nQ?\n- [x] a\n- [x] b\n:::', 'question "q" has 2 right choices'],
    ['a wrong choice without its explanation', '::: question {#q}\nQ?\n- [x] a\n- [ ] b\n:::', 'the wrong choice "b" has no explanation'],
    ['one choice', '::: question {#q}\nQ?\n- [x] a\n:::', 'needs at least two choices'],
    ['no question text', '::: question {#q}\n- [x] a\n- [ ] b\n  > no\n:::', 'has no text'],
    ['a typed answer without an explanation', '::: question {#q answer="3"}\nHow many?\n:::', 'has no explanation for a wrong answer'],
    ['a pattern that is no regular expression', '::: question {#q pattern="(a"}\nQ?\n> x\n:::', 'is not a regular expression'],
    ['a predict that names no path', '::: question {#q predict="overlayfs"}\nQ?\n> x\n:::', 'must be a family and a path'],
    ['two kinds at once', '::: question {#q answer="1" predict="chroot.applets"}\nQ?\n> x\n:::', 'not answer and predict'],
    ['choices on a typed answer', '::: question {#q answer="1"}\nQ?\n> x\n- [x] a\n- [ ] b\n  > no\n:::', 'choose one kind'],
    ['an unknown attribute', '::: question {#q key="1"}\nQ?\n> x\n:::', 'unknown question attribute "key"'],
    ['a block that is not closed', '::: question {#q}\nQ?\n- [x] a\n- [ ] b\n  > no\n', 'question block is not closed'],
  ])('%s', (_name, block, message) => {
    expect(messages(step(block)).join('\n')).toContain(message);
  });
  it('a repeated id, with the line of the first', () => {
    const q = '::: question {#q answer="1"}\nQ?\n> x\n:::';
    expect(messages(step(`${q}\n\n${q}`))).toEqual(['10: duplicate question id "q" (first at line 5)']);
  });
  it('a question outside every step', () => {
    expect(messages(`# T\n\n::: question {#q answer="1"}\nQ?\n> x\n:::\n\n## S {#s}\n`)).toEqual(['3: question "q" is outside a step: put it under a "## … {#step}" heading']);
  });
  it('a block not closed before the next step', () => {
    expect(messages(`# T\n\n## S {#s}\n\n::: question {#q answer="1"}\nQ?\n\n## U {#u}\n`)).toEqual(['5: question block is not closed: end it with a line ":::" before the heading at line 8']);
  });
});

describe('the lint rule', () => {
  it('refuses a prediction about a family the chapter does not draw, with file and line', () => {
    const mdPath = '/pack/01-x/chapter.md';
    const md = step('::: question {#q predict="btrfs.images.length"}\nHow many?\n> one\n:::');
    expect(questionProblems(mdPath, md, 'chroot')).toEqual([
      { file: mdPath, line: 5, message: 'question "q" predicts btrfs, which this chapter does not draw (its state families: chroot)' },
    ]);
  });
});

const q = (md: string): Question => {
  const x = parseQuestions(step(md)).questions[0];
  if (!x) throw new Error('no question');
  return x;
};

describe('answers', () => {
  it('judges a choice by letter or number, with the explanation written for the wrong one', () => {
    const c = q(CHOICE);
    expect(judgeKey(c, 'b')).toEqual({ result: 'right', why: '' });
    expect(judgeKey(c, '2')).toEqual({ result: 'right', why: '' });
    expect(judgeKey(c, 'a')).toEqual({ result: 'wrong', why: 'the upper folder is a plain folder: it keeps what was written' });
    expect(judgeKey(c, 'd')).toEqual({ result: 'invalid', message: 'answer with a letter from a to c' });
    expect(choiceIndex('C', 3)).toBe(2);
  });
  it('judges a typed answer exactly, or by its pattern', () => {
    expect(judgeKey(q('::: question {#n answer="3"}\nHow many?\n> three\n:::'), ' 3 ')).toMatchObject({ result: 'right' });
    expect(judgeKey(q('::: question {#n answer="3"}\nHow many?\n> three\n:::'), '4')).toEqual({ result: 'wrong', why: 'three' });
    const p = q('::: question {#p pattern="^(CAP_)?SYS_ADMIN$"}\nWhich?\n> CAP_SYS_ADMIN\n:::');
    expect([judgeKey(p, 'SYS_ADMIN').result, judgeKey(p, 'CAP_SYS_ADMIN').result, judgeKey(p, 'CAP_NET_ADMIN').result]).toEqual(['right', 'right', 'wrong']);
  });
  it('never shows the key in the step', () => {
    const text = withQuestionViews(CHOICE);
    expect(text).not.toContain('[x]');
    expect(text).not.toContain('only what changed');
    expect(text).toContain('- c) a copy of every file of rootfs');
    expect(questionMarkdown(q('::: question {#n answer="3"}\nHow many?\n> three\n:::'))).not.toContain('3"');
  });
  it('keeps the first try apart from the result', () => {
    const first = judged(undefined, 'c', 'q', 'wrong', 1);
    const second = judged(first, 'c', 'q', 'right', 2);
    expect(second).toMatchObject({ tries: 2, firstTry: 'wrong', result: 'right' });
    expect(judged(second, 'c', 'q', 'wrong', 3)).toMatchObject({ tries: 3, firstTry: 'wrong', result: 'right' });
  });
  it('names the first question of the step not yet answered right as the open one', () => {
    const qs = parseQuestions(step(`${CHOICE}\n\n::: question {#n answer="3"}\nHow many?\n> three\n:::`)).questions;
    const book = emptyAnswers();
    expect(openQuestion(qs, 's', 'c', book)?.id).toBe('after-umount');
    book.answers['c/after-umount'] = judged(undefined, 'c', 'after-umount', 'right', 1);
    expect(openQuestion(qs, 's', 'c', book)?.id).toBe('n');
    expect(openQuestion(qs, 'other', 'c', book)).toBeUndefined();
  });
});

describe('predictions against the state picture', () => {
  const doc: StateDocument = {
    format: STATE_DOCUMENT_FORMAT,
    chapter: 'x',
    dir: '/d',
    pictures: [
      { family: 'networking', internet: [], uplink: [], host: [{ name: 'ip_forward', status: 'ok', actual: '1' }], veth: [], box: [{ name: 'lo (ws-box)', status: 'wrong', actual: 'DOWN', expected: 'UP' }] },
      { family: 'btrfs', images: [], stores: [{ mountPoint: '/d/store', subvolumes: [{ path: 'container', id: 257, uuid: null, readOnly: false, parentUuid: null, receivedUuid: null }] }], streams: [] },
    ],
  };
  it('reads a value by index, by name and by length', () => {
    expect(valueAt(doc, 'networking', ['box', 'lo', 'actual'])).toBe('DOWN');
    expect(valueAt(doc, 'networking', ['host', 'ip_forward', 'actual'])).toBe('1');
    expect(valueAt(doc, 'btrfs', ['stores', '0', 'subvolumes', 'container', 'readOnly'])).toBe('false');
    expect(valueAt(doc, 'btrfs', ['stores', '0', 'subvolumes', 'length'])).toBe('1');
    expect(valueAt(doc, 'btrfs', ['stores', '1'])).toBeUndefined();
    expect(valueAt(doc, 'chroot', ['applets'])).toBeUndefined();
  });
  it('compares numbers as numbers, yes/no as booleans, words without case', () => {
    expect(predictionHolds('2', '2')).toBe(true);
    expect(predictionHolds('02', '2')).toBe(true);
    expect(predictionHolds('3', '2')).toBe(false);
    expect(predictionHolds('no', 'false')).toBe(true);
    expect(predictionHolds('yes', 'false')).toBe(false);
    expect(predictionHolds('down', 'DOWN')).toBe(true);
    expect(predictionHolds('up', 'DOWN')).toBe(false);
  });
});

describe('a required question', () => {
  it('is one more failing row of the step until it is answered right; an optional one never is', () => {
    const home = mkdtempSync(join(tmpdir(), 'ws-answers-'));
    try {
      const body = '::: question {#must answer="3" required}\nHow many?\n> three\n:::\n\n::: question {#may answer="4"}\nAnd?\n> four\n:::';
      expect(requiredQuestionRows(body, 'c', home)).toEqual([{ status: 'fail', check: 'question must is answered', expected: 'the right answer', actual: 'not answered right yet', hint: 'workshop answer must' }]);
      expect(openQuestionIn(body, 'c', home)).toBe('must');
      const book = emptyAnswers();
      book.answers['c/must'] = judged(undefined, 'c', 'must', 'right', 1);
      writeFileSync(answersPath(home), JSON.stringify(book));
      expect(requiredQuestionRows(body, 'c', home)).toEqual([]);
      expect(openQuestionIn(body, 'c', home)).toBe('may');
      expect(requiredQuestionRows('no question here', 'c', home)).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
