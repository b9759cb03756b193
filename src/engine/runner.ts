// Verify, solve and the chapter lifecycle. Commands decide; this does. The lesson code itself runs
// in the lesson host (src/lessons/host.ts), a child process with a time limit on every call, so
// that no lesson can end or freeze workshop, or pass a step by exiting.
import { mkdir } from 'node:fs/promises';
import type { CheckResult } from '../checks/check.ts';
import { lessonHost } from '../lessons/host.ts';
import { fillPlaceholders } from '../lessons/markdown.ts';
import type { MutantRecovery } from '../lessons/define.ts';
import type { MutantData } from '../lessons/host-protocol.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import type { ChapterPlace } from './context.ts';

export { describeFailure } from '../errors.ts';

/**
 * Runs a step's checks. Whatever goes wrong in the lesson code is an `error` row, never a crash.
 * A failing row's hint is a command the learner copies: {{nonce}} and {{dir}} are filled in, as in
 * chapter.md (05-lvm's `echo {{nonce}} > …`).
 */
export async function verifyStep(ch: LoadedChapter, step: string, place: ChapterPlace, log: (l: string) => void = () => {}): Promise<CheckResult[]> {
  if (!ch.def.steps[step]) throw new Error(`no step ${ch.entry.id}/${step}`);
  const rows = await lessonHost().verify(ch.entry.id, step, place, log);
  return rows.map((r) => (r.status === 'fail' && r.hint?.includes('{{') === true ? { ...r, hint: fillPlaceholders(r.hint, place) } : r));
}

/** Runs a step's reference solution; throws when it fails, or when it does not return. */
export async function solveStep(ch: LoadedChapter, step: string, place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  if (!ch.def.steps[step]) throw new Error(`no step ${ch.entry.id}/${step}`);
  await mkdir(place.dir, { recursive: true });
  await lessonHost().run(ch.entry.id, { kind: 'solve', step }, place, log, verbose);
}

export async function setupChapter(ch: LoadedChapter, place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  await mkdir(place.dir, { recursive: true });
  if (!ch.def.setup) return;
  // Its commands print as they run; a heading says whose they are, so that they never read as
  // part of the step result printed before or after them.
  if (verbose) log(`Setting up chapter ${ch.entry.id} (${ch.def.title}):`);
  await lessonHost().run(ch.entry.id, { kind: 'setup' }, place, log, verbose);
}

export async function cleanupChapter(ch: LoadedChapter, place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  // Its commands run in the chapter folder, which the learner may have removed: give them one
  // that exists (and in which a relative path reaches nothing else).
  await mkdir(place.dir, { recursive: true });
  await lessonHost().run(ch.entry.id, { kind: 'cleanup' }, place, log, verbose);
}

/**
 * Makes a mutant's near-miss state or a control's valid one (`apply`), or undoes it before the
 * engine re-solves (`revert`; nothing when it has none).
 */
export async function mutate(ch: LoadedChapter, kind: 'mutant' | 'control', step: string, name: string, action: 'apply' | 'revert', place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  await lessonHost().run(ch.entry.id, { kind, step, name, action }, place, log, verbose);
}

/** What the failing output of a mutant must name, when its author declared it. */
export const mutantDiagnosis = (m: MutantData): RegExp | undefined => m.diagnosis;
/** How the learner leaves a mutant's state: `workshop solve` (the default) or `goto … --restore`. */
export const mutantRecovery = (m: MutantData): MutantRecovery => m.recovery;
/** The command that rewinds to a step, as a mutant with `recovery: 'restore'` must name it. */
export const restoreCommand = (chapter: string, step: string): string => `workshop goto ${chapter}/${step} --restore`;

const asVars = (v: Record<string, string> | string[]): Record<string, string> => (Array.isArray(v) ? {} : v);

/** The variables of a chapter's env hook (`workshop env`), computed in the lesson host. */
export async function chapterEnv(ch: LoadedChapter, place: ChapterPlace): Promise<Record<string, string>> {
  return ch.def.env ? asVars(await lessonHost().ask(ch.entry.id, 'env', place)) : {};
}

/**
 * What `workshop env` exports: the chapter, its folder, its nonce (once it started: a place that
 * did not has nonce '') and the chapter's own variables.
 */
export async function exportedVars(ch: LoadedChapter, place: ChapterPlace): Promise<Record<string, string>> {
  return {
    WORKSHOP_CHAPTER: place.chapter,
    WORKSHOP_DIR: place.dir,
    ...(place.nonce === '' ? {} : { WORKSHOP_NONCE: place.nonce }),
    ...(await chapterEnv(ch, place)),
  };
}

/** What the chapter's cleanup would remove now, as the chapter says it; undefined when it does not say. */
export async function cleanupWouldRemove(ch: LoadedChapter, place: ChapterPlace): Promise<readonly string[] | undefined> {
  if (!ch.def.removes) return undefined;
  const lines = await lessonHost().ask(ch.entry.id, 'removes', place);
  return Array.isArray(lines) ? lines : [];
}

/**
 * The line that gives the learner's shell the variables the text uses (`nonce=AbC123xYz0`), as
 * the state has them now; undefined when the chapter has none. Values are quoted for the shell
 * only when they need it.
 */
export async function shellVarsLine(ch: LoadedChapter, place: ChapterPlace): Promise<string | undefined> {
  if (!ch.def.shellVars) return undefined;
  const vars = Object.entries(asVars(await lessonHost().ask(ch.entry.id, 'shellVars', place)));
  if (vars.length === 0) return undefined;
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  return vars.map(([k, v]) => `${k}=${quote(v)}`).join(' ');
}

/**
 * The failing rows as the learner reads them (check, expected, actual, hint; or the probe's
 * error), one field per line: the text a mutant's diagnosis is matched against.
 */
export function failureText(results: readonly CheckResult[]): string {
  return results
    .flatMap((r) => {
      if (r.status === 'pass') return [];
      if (r.status === 'error') return [`✘ ${r.check}`, `  error     ${r.error}`];
      return [`✘ ${r.check}`, `  expected  ${r.expected}`, `  actual    ${r.actual}`, ...(r.hint ? [`  hint      ${r.hint}`] : [])];
    })
    .join('\n');
}
