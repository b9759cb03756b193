// The lesson index: chapters and their steps, read from chapter.md alone. No steps module is
// imported here, so `workshop status` and `list` stay fast.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseChapterMd, type ChapterText } from './markdown.ts';

export interface LessonProblem {
  file: string;
  line: number;
  message: string;
}

export const formatProblem = (p: LessonProblem): string => `${p.file}:${p.line}: ${p.message}`;

export interface ChapterEntry {
  id: string;
  /** the NN of the folder name; orders the chapters */
  order: number;
  dir: string;
  mdPath: string;
  stepsPath: string;
  text: ChapterText;
}

export interface Catalog {
  dir: string;
  chapters: ChapterEntry[];
  problems: LessonProblem[];
}

const FOLDER = /^(\d+)-([a-z0-9][a-z0-9-]*)$/;

function readEntry(dir: string, order: number, id: string, problems: LessonProblem[]): ChapterEntry | undefined {
  const mdPath = join(dir, 'chapter.md');
  const stepsPath = join(dir, 'steps.ts');
  let md: string;
  try {
    md = readFileSync(mdPath, 'utf8');
  } catch {
    problems.push({ file: mdPath, line: 1, message: 'missing chapter.md' });
    return undefined;
  }
  if (!existsSync(stepsPath)) problems.push({ file: stepsPath, line: 1, message: 'missing steps.ts next to chapter.md' });
  const text = parseChapterMd(md);
  for (const p of text.problems) problems.push({ file: mdPath, ...p });
  return { id, order, dir, mdPath, stepsPath, text };
}

/** Reads a lesson pack: a folder of NN-slug chapter folders, or one chapter folder itself. */
export function readCatalog(lessonsDir: string): Catalog {
  const dir = resolve(lessonsDir);
  const problems: LessonProblem[] = [];
  const chapters: ChapterEntry[] = [];
  if (existsSync(join(dir, 'chapter.md'))) {
    const m = FOLDER.exec(basename(dir));
    const e = readEntry(dir, m ? Number(m[1]) : 0, m?.[2] ?? basename(dir), problems);
    if (e) chapters.push(e);
    return { dir, chapters, problems };
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    problems.push({ file: dir, line: 1, message: 'not a readable lesson folder' });
    return { dir, chapters, problems };
  }
  for (const name of names.sort()) {
    const m = FOLDER.exec(name);
    if (!m?.[2]) continue;
    const e = readEntry(join(dir, name), Number(m[1]), m[2], problems);
    if (!e) continue;
    const dup = chapters.find((c) => c.id === e.id);
    if (dup) problems.push({ file: e.mdPath, line: 1, message: `duplicate chapter id "${e.id}" (also ${dup.dir})` });
    else chapters.push(e);
  }
  if (chapters.length === 0 && problems.length === 0) problems.push({ file: dir, line: 1, message: 'no chapters: expected folders like 01-name/ holding chapter.md and steps.ts' });
  chapters.sort((a, b) => a.order - b.order);
  return { dir, chapters, problems };
}

export interface StepAddress {
  chapter: ChapterEntry;
  step: string;
}

export const stepIds = (c: ChapterEntry): string[] => c.text.steps.map((s) => s.id);

export function allStepAddresses(cat: Catalog): string[] {
  return cat.chapters.flatMap((c) => stepIds(c).map((s) => `${c.id}/${s}`));
}
