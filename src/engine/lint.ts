// A lesson pack checked as `workshop lint` and the labs' image build check it: the index, then
// every chapter's steps.ts loaded, then each rule of LINT_RULES on each chapter that loaded. Each
// problem has its file and line. A rule is a function of one chapter; add one to the list.
import { readFileSync } from 'node:fs';
import { formatProblem, readCatalog, type ChapterEntry, type LessonProblem } from '../lessons/catalog.ts';
import { loadChapter } from '../lessons/load.ts';
import { questionBlocks } from './lint-questions.ts';
import { asWrittenMarkers, closingSection, draftMarker, inspectedInHost, relativeImports, titlesAgree, type LintChapter, type LintRule } from './lint-rules.ts';

export type { LintChapter, LintRule };

export interface PackLint {
  dir: string;
  chapters: string[];
  steps: number;
  problems: LessonProblem[];
}

/** The rules, in the order their problems are listed. */
export const LINT_RULES: readonly LintRule[] = [relativeImports, closingSection, titlesAgree, asWrittenMarkers, inspectedInHost, questionBlocks, draftMarker];

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the catalog or the loader said why already
  }
};

export async function lintPack(dir: string, rules: readonly LintRule[] = LINT_RULES): Promise<PackLint> {
  const cat = readCatalog(dir);
  const problems: LessonProblem[] = [...cat.problems];
  for (const entry of cat.chapters) {
    const loaded = await loadChapter(entry, problems);
    if (!loaded) continue;
    const c: LintChapter = { entry, md: readText(entry.mdPath), source: readText(entry.stepsPath), loaded };
    for (const rule of rules) problems.push(...(await rule(c)));
  }
  return { dir, chapters: cat.chapters.map((c) => c.id), steps: cat.chapters.reduce((n, c) => n + c.text.steps.length, 0), problems };
}

export { formatProblem };
