import { describe, expect, it } from 'vitest';
import type { ChapterEntry } from '../../src/lessons/catalog.ts';
import { validateChapter } from '../../src/lessons/load.ts';
import { parseChapterMd } from '../../src/lessons/markdown.ts';

const entry: ChapterEntry = { id: 'demo', order: 1, dir: '/l/01-demo', mdPath: '/l/01-demo/chapter.md', stepsPath: '/l/01-demo/steps.ts', text: parseChapterMd('# T\n\n## A {#a}\n\nx\n\n## B {#b}\n\ny\n') };
const step = (extra: Record<string, unknown> = {}) => ({ verify: () => [], solve: async () => {}, hints: ['h'], ...extra });
const chapter = (b: Record<string, unknown>) => ({ formatVersion: 1, id: 'demo', title: 'T', cleanup: async () => {}, steps: { a: step(), b: step(b) } });
const messages = (b: Record<string, unknown>) => validateChapter(entry, chapter(b), '').map((p) => p.message);

describe('lint: diagnoses and undoes', () => {
  it('accepts a bare mutant, one with a diagnosis, one without revert, and undoes of an earlier step', () => {
    expect(messages({ mutants: { bare: async () => {}, told: { apply: async () => {}, diagnosis: /x/ } }, undoes: ['a'] })).toEqual([]);
    expect(messages({ undoes: '*' })).toEqual([]);
  });
  it('rejects a diagnosis that is not a RegExp', () => {
    expect(messages({ mutants: { told: { apply: async () => {}, diagnosis: 'read-only' } } })).toEqual(['step "b": mutant "told": diagnosis must be a RegExp, e.g. /read-only|no upperdir/']);
  });
  it('rejects undoes of a step that is not earlier', () => {
    expect(messages({ undoes: ['b', 'zz'] })).toEqual(['step "b" undoes "b", which is not an earlier step of this chapter', 'step "b" undoes "zz", which is not an earlier step of this chapter']);
  });
});
