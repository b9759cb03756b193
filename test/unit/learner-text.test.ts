// Issue 21 item 18: jargon a newcomer cannot place. The learner's text (chapter.md) and what the
// checks print (the strings of steps.ts, comments aside) name a source with a sentence on what it
// is where it first appears, never by an abbreviation, and no chapter sends the learner forward
// for an explanation.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LESSONS } from '../helpers/workshop.ts';

interface ChapterText {
  folder: string;
  number: number;
  md: string;
  /** steps.ts without its comments: what a learner may read in a row, a hint or a check name */
  shown: string;
}

const stripComments = (ts: string): string => ts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

/** The chapters of a lessons folder, as the learner reads them. */
export function chapterTexts(dir: string): ChapterText[] {
  return readdirSync(dir)
    .filter((f) => /^\d\d-/.test(f))
    .sort()
    .map((folder) => ({
      folder,
      number: Number(folder.slice(0, 2)),
      md: readFileSync(join(dir, folder, 'chapter.md'), 'utf8'),
      shown: stripComments(readFileSync(join(dir, folder, 'steps.ts'), 'utf8')),
    }));
}

/** The paragraph (text between blank lines) that holds the first match of `re`, or null. */
function firstParagraph(md: string, re: RegExp): string | null {
  return md.split(/\n\s*\n/).find((p) => re.test(p)) ?? null;
}

/** What a newcomer cannot place, chapter by chapter; empty when nothing is. Pure. */
export function jargonOf(c: ChapterText): string[] {
  const out: string[] = [];
  for (const [what, text] of [['chapter.md', c.md], ['steps.ts', c.shown]] as const) {
    for (const word of [/\bCTHW\b/, /\bHex seed\b/i, /\bof container container\b/]) if (word.test(text)) out.push(`${c.folder}/${what} says ${String(word)}`);
  }
  // a seed is said to be a tutorial (or what the chapter follows) where the chapter first names it
  const seed = firstParagraph(c.md, /\bseed\b/);
  if (seed !== null && !/tutorial|follows/.test(seed)) out.push(`${c.folder}: its first "seed" does not say what the seed is`);
  const cthw = firstParagraph(c.md, /Container the Hard Way/);
  if (cthw !== null && !/tutorial/.test(cthw)) out.push(`${c.folder}: its first "Container the Hard Way" does not say what it is`);
  // an explanation sent forward to a later chapter
  for (const m of c.md.matchAll(/chapter (\d\d) explains/gi)) if (Number(m[1]) > c.number) out.push(`${c.folder} sends the learner forward: ${m[0]}`);
  return out;
}

describe('the learner meets no jargon it cannot place (issue 21 item 18)', () => {
  for (const c of chapterTexts(LESSONS)) {
    it(`${c.folder}: names each source where it first appears, and refers to no later chapter for an explanation`, () => {
      expect(jargonOf(c)).toEqual([]);
    });
  }
});
