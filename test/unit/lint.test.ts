import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCatalog, formatProblem, type LessonProblem } from '../../src/lessons/catalog.ts';
import { loadChapter } from '../../src/lessons/load.ts';

const packs = fileURLToPath(new URL('../fixtures/lessons/', import.meta.url));
const lessons = fileURLToPath(new URL('../../lessons/', import.meta.url));

async function lint(dir: string): Promise<string[]> {
  const cat = readCatalog(dir);
  const problems: LessonProblem[] = [...cat.problems];
  for (const c of cat.chapters) await loadChapter(c, problems);
  return problems.map((p) => formatProblem(p).replace(`${dir}/`, ''));
}

describe('lint', () => {
  it('accepts the built-in lessons', async () => {
    expect(await lint(lessons)).toEqual([]);
  });
  it('accepts the third-party pack', async () => {
    expect(await lint(`${packs}good`)).toEqual([]);
  });
  it('reports every problem of the broken twin with file:line', async () => {
    expect((await lint(`${packs}broken`)).sort()).toEqual(
      [
        '01-greeting/chapter.md:11: duplicate step id "greet" (first at line 3)',
        '01-greeting/chapter.md:7: step "orphan" has no definition in steps.ts',
        '01-greeting/steps.ts:13: step "only-in-code" has no "## … {#only-in-code}" section in chapter.md',
        '01-greeting/steps.ts:13: step "only-in-code": control "bare" must be { apply, revert? }',
        '01-greeting/steps.ts:25: madeOutside[0]: path "littlebox" must be an absolute path other than /, written as normalize writes it',
        '01-greeting/steps.ts:19: duplicate step id "greet" (first at line 9); JavaScript keeps only the last one',
        '01-greeting/steps.ts:5: unknown formatVersion 99: this workshop reads formatVersion 1',
        '01-greeting/steps.ts:9: step "greet" has no solve(ctx)',
      ].sort(),
    );
  });
  it('says which folder has no chapters', () => {
    expect(readCatalog(packs).problems.map((p) => p.message)).toEqual(['no chapters: expected folders like 01-name/ holding chapter.md and steps.ts']);
  });
});
