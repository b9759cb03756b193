// Loads a chapter: its steps.ts is imported in the lesson host (host.ts), a child process, and
// checked there against chapter.md (validate.ts). workshop keeps the chapter's data; its code
// stays in the host, and engine/runner.ts runs it there. Every problem is reported as file:line.
import { lessonError } from '../errors.ts';
import type { ChapterEntry, LessonProblem } from './catalog.ts';
import { formatProblem, textKey } from './catalog.ts';
import type { Requirement } from './define.ts';
import { lessonHost } from './host.ts';
import type { ChapterData } from './host-protocol.ts';
import type { KeyAt } from './scan.ts';

export { IMPORT_TIMEOUT_MS } from './host.ts';
export { importLineOf, outsideProblems, validateChapter } from './validate.ts';

/**
 * A chapter as the engine sees it: the data of its steps.ts. A requirement's probe, like every
 * other function of the chapter, runs in the lesson host.
 */
export interface ChapterShape extends Omit<ChapterData, 'requires'> {
  requires: readonly Requirement[];
}

export interface LoadedChapter {
  entry: ChapterEntry;
  def: ChapterShape;
}

/** The lesson index's scan of steps.ts, if it is of the file as it is now. */
function keysOf(entry: ChapterEntry): KeyAt[] | undefined {
  const cached = entry.stepKeys;
  return cached !== undefined && textKey(entry.stepsPath) === cached.key ? cached.keys : undefined;
}

/** Imports and validates a chapter; collects problems instead of throwing when `problems` is given. */
export async function loadChapter(entry: ChapterEntry, problems?: LessonProblem[]): Promise<LoadedChapter | undefined> {
  const host = lessonHost();
  const out = await host.load(entry, keysOf(entry));
  if (out.kind === 'loaded') {
    const requires = out.chapter.requires.map((describe, index): Requirement => ({ describe, probe: () => host.probe(entry.id, index) }));
    return { entry, def: { ...out.chapter, requires } };
  }
  if (problems) {
    problems.push(...out.problems);
    return undefined;
  }
  throw lessonError(`lesson ${entry.id} is broken:\n  ${out.problems.map(formatProblem).join('\n  ')}`, 'run `workshop lint` for the whole pack');
}
