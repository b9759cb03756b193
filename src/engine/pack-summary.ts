// Every pack of a home side by side, the built-in lessons as one of them: its chapters and how far
// its own progress is. For `list` and `select`; reads the lesson index and progress only.
import { readCatalog, type Catalog } from '../lessons/catalog.ts';
import { BUILTIN, installedPacks, packDir } from './packs.ts';
import { isDone, readState, type State } from './progress.ts';
import { workspace } from './workspace.ts';

export interface PackSummary {
  name: string;
  dir: string;
  chapters: number;
  steps: number;
  done: number;
}

export interface PackView {
  name: string;
  /** the installed pack whose progress this is; undefined for the built-in lessons */
  pack: string | undefined;
  cat: Catalog;
  state: State;
}

/** Each pack's lessons and progress, read-only (a corrupt state.json shows as a fresh start); `except` is left unread. */
export function packViews(home: string, builtinDir: string, except?: string): PackView[] {
  const all = [{ name: BUILTIN, dir: builtinDir, pack: undefined }, ...installedPacks(home).map((p) => ({ name: p.name, dir: packDir(home, p.name), pack: p.name }))];
  return all.filter((p) => p.dir !== except).map((p) => ({ name: p.name, pack: p.pack, cat: readCatalog(p.dir), state: readState(workspace(home, p.pack).statePath, false).state }));
}

export function packSummaries(home: string, builtinDir: string, except?: string): PackSummary[] {
  return packViews(home, builtinDir, except).map((v) => {
    const ids = v.cat.chapters.flatMap((c) => c.text.steps.map((s) => s.id).map((id) => [c.id, id] as const));
    return { name: v.name, dir: v.cat.dir, chapters: v.cat.chapters.length, steps: ids.length, done: ids.filter(([c, s]) => isDone(v.state, c, s)).length };
  });
}
