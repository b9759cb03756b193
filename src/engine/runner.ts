// Verify, solve and the chapter lifecycle. Commands decide; this does.
import { mkdir } from 'node:fs/promises';
import type { CheckResult } from '../checks/check.ts';
import { runChecks } from '../checks/check.ts';
import type { Mutant, MutantRecovery, SolveContext } from '../lessons/define.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { checkContext, solveContext, stepContext, type ChapterPlace } from './context.ts';

/** Runs a step's checks. A verify that throws becomes one `error` result, never a crash. */
export async function verifyStep(ch: LoadedChapter, step: string, place: ChapterPlace, log: (l: string) => void = () => {}): Promise<CheckResult[]> {
  const def = ch.def.steps[step];
  if (!def) throw new Error(`no step ${ch.entry.id}/${step}`);
  const ctx = stepContext(place, step, log);
  try {
    return await runChecks(def.verify(ctx), ctx);
  } catch (err) {
    return [{ status: 'error', check: `verify of ${ch.entry.id}/${step}`, error: err instanceof Error ? err.message : String(err) }];
  }
}

export async function solveStep(ch: LoadedChapter, step: string, place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  const def = ch.def.steps[step];
  if (!def) throw new Error(`no step ${ch.entry.id}/${step}`);
  await mkdir(place.dir, { recursive: true });
  await def.solve(await solveContext(place, step, log, verbose));
}

export async function setupChapter(ch: LoadedChapter, place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  await mkdir(place.dir, { recursive: true });
  if (!ch.def.setup) return;
  // Its commands print as they run; a heading says whose they are, so that they never read as
  // part of the step result printed before or after them.
  if (verbose) log(`Setting up chapter ${ch.entry.id} (${ch.def.title}):`);
  await ch.def.setup(await solveContext(place, '', log, verbose));
}

export async function cleanupChapter(ch: LoadedChapter, place: ChapterPlace, log: (l: string) => void, verbose: boolean): Promise<void> {
  // Its commands run in the chapter folder, which the learner may have removed: give them one
  // that exists (and in which a relative path reaches nothing else).
  await mkdir(place.dir, { recursive: true });
  await ch.def.cleanup(await solveContext(place, '', log, verbose));
}

/** What the chapter's cleanup would remove now, as the chapter says it; undefined when it does not say. */
export async function cleanupWouldRemove(ch: LoadedChapter, place: ChapterPlace): Promise<readonly string[] | undefined> {
  return ch.def.removes ? ch.def.removes(checkContext(place)) : undefined;
}

/**
 * The line that gives the learner's shell the variables the text uses (`nonce=AbC123xYz0`), as
 * the state has them now; undefined when the chapter has none. Values are quoted for the shell
 * only when they need it.
 */
export async function shellVarsLine(ch: LoadedChapter, place: ChapterPlace): Promise<string | undefined> {
  if (!ch.def.shellVars) return undefined;
  const vars = Object.entries(await ch.def.shellVars(checkContext(place)));
  if (vars.length === 0) return undefined;
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  return vars.map(([k, v]) => `${k}=${quote(v)}`).join(' ');
}

export const applyMutant = (m: Mutant, ctx: SolveContext): Promise<void> => (typeof m === 'function' ? m(ctx) : m.apply(ctx));
export const revertMutant = async (m: Mutant, ctx: SolveContext): Promise<void> => {
  if (typeof m !== 'function' && m.revert) await m.revert(ctx);
};
/** How the learner leaves a mutant's state: `workshop solve` (the default) or `goto … --restore`. */
export const mutantRecovery = (m: Mutant): MutantRecovery => (typeof m === 'function' ? 'solve' : (m.recovery ?? 'solve'));
/** The command that rewinds to a step, as a mutant with `recovery: 'restore'` must name it. */
export const restoreCommand = (chapter: string, step: string): string => `workshop goto ${chapter}/${step} --restore`;
/** What the failing output of a mutant must name, when its author declared it. */
export const mutantDiagnosis = (m: Mutant): RegExp | undefined => (typeof m === 'function' ? undefined : m.diagnosis);

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

/** Explains why a solution or hook failed, in one line: zx errors carry the command and stderr. */
export function describeFailure(err: unknown): string {
  if (err && typeof err === 'object' && 'exitCode' in err && 'stderr' in err) {
    const e = err as { exitCode: unknown; stderr: unknown; message?: unknown };
    const stderr = String(e.stderr).trim().split('\n').slice(-2).join(' / ');
    return `a command exited ${String(e.exitCode)}${stderr ? `: ${stderr}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
