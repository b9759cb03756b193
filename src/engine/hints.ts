// The hints of a chapter's steps, cached in WORKSHOP_HOME so that `workshop hint` does not import
// the chapter's steps.ts (and the lesson API, and what steps.ts imports) on every call: that was
// ~64M instructions on top of start-up (callgrind). Hints are plain strings in steps.ts; the cache
// is keyed by the chapter's code (readiness.ts: stepsKey), so an edited steps.ts is read again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from '../sys/lang.ts';
import { fillPlaceholders } from '../lessons/markdown.ts';
import type { ChapterEntry } from '../lessons/catalog.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { stepsKey, writeCacheFile } from './readiness.ts';
import type { ChapterPlace } from '../lessons/context.ts';

export const hintsCachePath = (home: string): string => join(home, 'cache', 'hints.json');

type HintsFile = { format: 1; chapters: Record<string, { steps: string; hints: Record<string, string[]> }> };

function readHints(path: string): HintsFile {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (isRecord(v) && v['format'] === 1 && isRecord(v['chapters'])) return v as unknown as HintsFile;
  } catch {
    // none yet, or unreadable: start over
  }
  return { format: 1, chapters: {} };
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The hints of `step`, from the cache when the chapter's code is unchanged, else from `load`. */
export async function stepHints(entry: ChapterEntry, step: string, cache: string | undefined, load: () => Promise<LoadedChapter>): Promise<readonly string[]> {
  const key = stepsKey(entry);
  const file = cache ? readHints(cache) : undefined;
  const hit = file?.chapters[entry.id];
  if (hit && hit.steps === key && isRecord(hit.hints)) {
    const h = hit.hints[step];
    if (h === undefined || isStrings(h)) return h ?? [];
  }
  const def = (await load()).def;
  if (cache && file) {
    file.chapters[entry.id] = { steps: key, hints: Object.fromEntries(Object.entries(def.steps).map(([id, s]) => [id, [...s.hints]])) };
    writeCacheFile(cache, file);
  }
  return def.steps[step]?.hints ?? [];
}

/**
 * Hints as the learner reads them: {{nonce}} and {{dir}} filled in as in chapter.md (the nonce of
 * a chapter not started yet is a note that says how to start it). Used by `workshop hint` and drills.
 */
export const fillHints = (hints: readonly string[], place: ChapterPlace | undefined, dir: string): string[] =>
  hints.map((h) => fillPlaceholders(h, { nonce: place?.nonce, dir: place?.dir ?? dir }));
