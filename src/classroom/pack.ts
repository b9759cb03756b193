// The served lesson pack as the classroom needs it: step addresses and titles, from chapter.md
// alone (readCatalog imports no steps module).
import { formatProblem, readCatalog } from '../lessons/catalog.ts';
import { lessonError } from '../errors.ts';
import type { Pack } from './model.ts';

export function readPack(lessonsDir: string): Pack {
  const cat = readCatalog(lessonsDir);
  if (cat.chapters.length === 0) throw lessonError(`no lessons in ${lessonsDir}:\n  ${cat.problems.map(formatProblem).join('\n  ')}`, 'check --lessons, or run `workshop lint DIR`');
  const chapters = new Map<string, string[]>();
  const steps = cat.chapters.flatMap((c) => {
    const s = c.text.steps.map((t) => ({ id: `${c.id}/${t.id}`, title: t.title }));
    chapters.set(c.id, s.map((x) => x.id));
    return s;
  });
  return { steps, chapters };
}
