// What the chapters' text, or a tutorial it follows, makes outside the workspace (`madeOutside`
// in steps.ts): `workshop clean` names what of it exists, for the learner to remove. It never
// removes it: outside the workspace, a path may be the learner's own.
import { lstat } from 'node:fs/promises';
import type { OutsidePath } from '../lessons/define.ts';
import type { Journey } from './journey.ts';

/** A declared path that exists now, with the chapter that names it. */
export interface OutsideLeftover extends OutsidePath {
  chapter: string;
}

/** The declared paths of these chapters that exist now (a dangling symlink counts), once each, in the chapters' order. */
export async function outsideLeftovers(chapters: ReadonlyArray<{ id: string; madeOutside?: readonly OutsidePath[] | undefined }>): Promise<OutsideLeftover[]> {
  const declared = chapters.flatMap((c) => (c.madeOutside ?? []).map((o) => ({ ...o, chapter: c.id })));
  const unique = declared.filter((o, i) => declared.findIndex((x) => x.path === o.path) === i);
  const there = await Promise.all(unique.map((o) => lstat(o.path).then(() => true, () => false)));
  return unique.filter((_, i) => there[i]);
}

/** What every chapter of the lessons in use declares; a chapter that cannot be loaded declares nothing (clean goes on). */
export async function declaredOutside(j: Journey): Promise<Array<{ id: string; madeOutside?: readonly OutsidePath[] | undefined }>> {
  return Promise.all(j.cat.chapters.map(async (entry) => ({ id: entry.id, madeOutside: await j.load(entry).then((c) => c.def.madeOutside, () => undefined) })));
}

/** The lines `clean` prints for them. Pure. */
export function outsideLines(left: readonly OutsideLeftover[]): string[] {
  if (left.length === 0) return [];
  return [
    'Outside the workspace, for you to remove (workshop never removes what lies outside it):',
    ...left.map((o) => `  ${o.path}  made by ${o.madeBy} (chapter ${o.chapter}): ${o.remove}`),
  ];
}
