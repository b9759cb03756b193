// What most commands need: the lesson catalog, the progress, the step being worked on.
// Reading is cheap (no steps module is imported until a command asks for it).
import { readCatalog, type Catalog, type ChapterEntry, stepIds, allStepAddresses, formatProblem } from '../lessons/catalog.ts';
import { loadChapter, type LoadedChapter } from '../lessons/load.ts';
import { lessonError, usageError, didYouMean } from '../errors.ts';
import { loadState, saveState, newNonce, type State, type ChapterProgress } from '../engine/progress.ts';
import { workspace, type Workspace } from '../engine/workspace.ts';
import type { ChapterPlace } from '../engine/context.ts';
import type { Cli } from './cli.ts';

export interface Session {
  cli: Cli;
  cat: Catalog;
  ws: Workspace;
  state: State;
  save(): void;
}

export function openSession(cli: Cli): Session {
  const cat = readCatalog(cli.lessonsDir);
  if (cat.chapters.length === 0) throw lessonError(`no lessons in ${cli.lessonsDir}:\n  ${cat.problems.map(formatProblem).join('\n  ')}`, 'check --lessons, or run `workshop lint DIR`');
  const ws = workspace(cli.home);
  const state = loadState(ws.statePath);
  return { cli, cat, ws, state, save: () => saveState(ws.statePath, state) };
}

export interface Position {
  chapter: ChapterEntry;
  step: string;
  /** 0-based index of the step within the chapter */
  index: number;
}

/** The current step: from state.json if it still exists in this pack, else the very first step. */
export function currentPosition(s: Session): Position {
  const cur = s.state.current;
  if (cur) {
    const chapter = s.cat.chapters.find((c) => c.id === cur.chapter);
    const index = chapter ? stepIds(chapter).indexOf(cur.step) : -1;
    if (chapter && index >= 0) return { chapter, step: cur.step, index };
  }
  const first = s.cat.chapters[0];
  const step = first ? stepIds(first)[0] : undefined;
  if (!first || step === undefined) throw lessonError('the lesson pack has no steps');
  return { chapter: first, step, index: 0 };
}

/** Resolves `chapter/step`, `chapter` (its first step, or `first` = false for the chapter only) or a bare step id of the current chapter. */
export function findStep(s: Session, address: string): Position {
  const [cid, sid] = address.includes('/') ? address.split('/', 2) : [address, undefined];
  let chapter = s.cat.chapters.find((c) => c.id === cid);
  let step = sid;
  if (!chapter && sid === undefined) {
    // a bare step id of the current chapter
    const cur = currentPosition(s).chapter;
    if (stepIds(cur).includes(address)) {
      chapter = cur;
      step = address;
    }
  }
  if (!chapter) {
    const ids = s.cat.chapters.map((c) => c.id);
    const guess = didYouMean(cid ?? '', ids);
    throw usageError(`unknown chapter "${cid ?? ''}"`, `${guess ? `did you mean "${guess}"? ` : ''}chapters: ${ids.join(', ')}`);
  }
  const ids = stepIds(chapter);
  const id = step ?? ids[0];
  const index = id === undefined ? -1 : ids.indexOf(id);
  if (id === undefined || index < 0) {
    const guess = didYouMean(step ?? '', ids);
    throw usageError(`unknown step "${chapter.id}/${step ?? ''}"`, `${guess ? `did you mean "${chapter.id}/${guess}"? ` : ''}steps of ${chapter.id}: ${ids.join(', ')}`);
  }
  return { chapter, step: id, index };
}

export function chapterById(s: Session, id: string): ChapterEntry {
  const c = s.cat.chapters.find((x) => x.id === id);
  if (!c) {
    const ids = s.cat.chapters.map((x) => x.id);
    const guess = didYouMean(id, ids);
    throw usageError(`unknown chapter "${id}"`, `${guess ? `did you mean "${guess}"? ` : ''}chapters: ${ids.join(', ')}`);
  }
  return c;
}

export async function load(entry: ChapterEntry): Promise<LoadedChapter> {
  const ch = await loadChapter(entry);
  if (!ch) throw lessonError(`cannot load ${entry.id}`);
  return ch;
}

/** The chapter's progress, creating its nonce on first use (the start of the chapter). Returns whether it was created. */
export function chapterProgress(s: Session, id: string): { progress: ChapterProgress; created: boolean } {
  const existing = s.state.chapters[id];
  if (existing) return { progress: existing, created: false };
  const progress: ChapterProgress = { nonce: newNonce(), startedAt: Date.now(), steps: {} };
  s.state.chapters[id] = progress;
  return { progress, created: true };
}

export function place(s: Session, id: string, progress: ChapterProgress): ChapterPlace {
  return { chapter: id, dir: s.ws.chapterDir(id), home: s.ws.home, nonce: progress.nonce, startedAt: progress.startedAt };
}

export const addresses = allStepAddresses;
