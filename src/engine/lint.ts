// A lesson pack checked as `workshop lint` and the labs' image build check it: the index, then
// every chapter's steps.ts loaded, each problem with its file and line.
import { formatProblem, readCatalog, type LessonProblem } from '../lessons/catalog.ts';
import { loadChapter } from '../lessons/load.ts';

export interface PackLint {
  dir: string;
  chapters: string[];
  steps: number;
  problems: LessonProblem[];
}

export async function lintPack(dir: string): Promise<PackLint> {
  const cat = readCatalog(dir);
  const problems: LessonProblem[] = [...cat.problems];
  for (const c of cat.chapters) await loadChapter(c, problems);
  return { dir, chapters: cat.chapters.map((c) => c.id), steps: cat.chapters.reduce((n, c) => n + c.text.steps.length, 0), problems };
}

export { formatProblem };
