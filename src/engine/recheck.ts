// "A step that broke an earlier one": when the current step fails, the chapter's earlier steps
// that were done are verified again, and those that no longer hold are named. Most mysterious
// failures are one of those (the overlay of step 2 unmounted by a typo in step 4). A step that
// undoes an earlier one on purpose says so in `undoes`, so that it is not reported.
import { allPassed, type CheckResult } from '../checks/check.ts';
import { stepIds } from '../lessons/catalog.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import type { ChapterPlace } from './context.ts';
import type { Position } from './journey.ts';
import { verifyStep } from './runner.ts';

export interface NoLongerHolds {
  step: string;
  /** 1-based, as the learner counts */
  number: number;
  title: string;
  failing: CheckResult[];
}

/** The earlier steps to re-check: done, and not undone on purpose by a later step up to `pos`. Pure. */
export function stepsToRecheck(ch: LoadedChapter, pos: Position, isDone: (step: string) => boolean): string[] {
  const ids = stepIds(pos.chapter);
  const upTo = ids.slice(0, pos.index + 1);
  return ids.slice(0, pos.index).filter((id, i) => {
    if (!isDone(id)) return false;
    return !upTo.slice(i + 1).some((later) => {
      const u = ch.def.steps[later]?.undoes;
      return u === '*' || (u?.includes(id) ?? false);
    });
  });
}

/** Verifies them one at a time (some checks run the learner's scripts) and returns those that fail. */
export async function earlierStepsBroken(ch: LoadedChapter, place: ChapterPlace, pos: Position, isDone: (step: string) => boolean): Promise<NoLongerHolds[]> {
  const out: NoLongerHolds[] = [];
  const ids = stepIds(pos.chapter);
  for (const step of stepsToRecheck(ch, pos, isDone)) {
    const results = await verifyStep(ch, step, place);
    if (allPassed(results)) continue;
    const index = ids.indexOf(step);
    out.push({ step, number: index + 1, title: pos.chapter.text.steps[index]?.title ?? step, failing: results.filter((r) => r.status !== 'pass') });
  }
  return out;
}

/** `step 2 (mount) no longer holds: an overlay uses rootfs: no overlay uses rootfs`. Pure. */
export function describeBroken(b: NoLongerHolds): string {
  const first = b.failing[0];
  const why = first === undefined || first.status === 'pass' ? '' : first.status === 'fail' ? `${first.check}: ${first.actual}` : `${first.check}: ${first.error}`;
  const more = b.failing.length > 1 ? ` (and ${b.failing.length - 1} more)` : '';
  return `step ${b.number} (${b.step}) no longer holds: ${why}${more}`;
}

/** An earlier step of the chapter that was never done and does not hold now (the learner skipped it with goto). */
export interface NotDone {
  step: string;
  /** 1-based, as the learner counts */
  number: number;
  title: string;
}

/** Verifies the earlier steps that were never done; those that fail are what this step builds on and is missing. */
export async function earlierStepsNotDone(ch: LoadedChapter, place: ChapterPlace, pos: Position, isDone: (step: string) => boolean): Promise<NotDone[]> {
  const ids = stepIds(pos.chapter);
  const out: NotDone[] = [];
  for (const [index, step] of ids.slice(0, pos.index).entries()) {
    if (isDone(step)) continue;
    if (allPassed(await verifyStep(ch, step, place))) continue;
    out.push({ step, number: index + 1, title: pos.chapter.text.steps[index]?.title ?? step });
  }
  return out;
}

/**
 * `steps 1 (dirs) and 2 (mount) are not done, and this step builds on them: `workshop solve
 * --through overlayfs/mount` catches up`. Pure.
 */
export function describeNotDone(chapter: string, missing: readonly NotDone[]): string | undefined {
  const last = missing.at(-1);
  if (last === undefined) return undefined;
  const names = missing.map((m) => `${m.number} (${m.step})`);
  const list = names.length === 1 ? `step ${names[0] ?? ''} is` : `steps ${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''} are`;
  return `${list} not done, and this step builds on ${missing.length === 1 ? 'it' : 'them'}: \`workshop solve --through ${chapter}/${last.step}\` catches up (or do ${missing.length === 1 ? 'it' : 'them'} yourself: \`workshop goto ${chapter}/${missing[0]?.step ?? last.step}\`)`;
}

/**
 * A failing row names a path in the chapter folder while the learner's shell is somewhere else:
 * say so, and where a file of that name is in the learner's folder, that it was made there. Pure
 * but for the `exists` probe it is given.
 */
export function wrongFolder(cwd: string, home: string, dir: string, results: readonly CheckResult[], exists: (p: string) => boolean): string | undefined {
  if (cwd === dir || cwd.startsWith(`${dir}/`)) return undefined;
  const text = results.flatMap((r) => (r.status === 'fail' ? [r.actual, r.expected] : r.status === 'error' ? [r.error] : [])).join('\n');
  const probed = [...text.matchAll(new RegExp(`${escapeRe(dir)}/([^\\s:,;)]+)`, 'g'))].map((m) => m[1] ?? '');
  if (probed.length === 0) return undefined;
  const here = cwd === home ? '~' : cwd;
  const found = [...new Set(probed)].filter((rel) => exists(`${cwd}/${rel}`));
  const made = found.length > 0 ? ` ${found.map((f) => `${here === '~' ? '~' : cwd}/${f}`).join(', ')} ${found.length === 1 ? 'is' : 'are'} there: made in the wrong folder.` : '';
  return `You are in ${here}, and the chapter's folder is ${dir}: the text's paths start there (cd $(workshop path)).${made}`;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
