// Builds what verify, solve and the chapter hooks receive (in the lesson host, src/lessons/host-child.ts,
// and for `workshop state` in the engine). zx is imported only when a solve context is made, so
// that only solve/test/reset/clean pay for it.
import { join, resolve, isAbsolute } from 'node:path';
import type { CheckContext } from '../checks/check.ts';
import { run } from '../sys/exec.ts';
import type { SolveContext, StepContext } from './define.ts';

export interface ChapterPlace {
  chapter: string;
  dir: string;
  home: string;
  nonce: string;
  startedAt: number;
}

export function checkContext(p: ChapterPlace): CheckContext {
  return {
    chapter: p.chapter,
    dir: p.dir,
    home: p.home,
    nonce: p.nonce,
    startedAt: p.startedAt,
    path: (...parts) => (parts.length === 1 && parts[0] !== undefined && isAbsolute(parts[0]) ? parts[0] : resolve(join(p.dir, ...parts))),
    run,
  };
}

export function stepContext(p: ChapterPlace, step: string, log: (line: string) => void): StepContext {
  return { ...checkContext(p), step, log };
}

/** `verbose` prints each command a solution runs (for the learner); the self-test keeps quiet. */
export async function solveContext(p: ChapterPlace, step: string, log: (line: string) => void, verbose: boolean): Promise<SolveContext> {
  const { $ } = await import('zx');
  const shell = $({ cwd: p.dir, verbose, quiet: !verbose });
  return { ...stepContext(p, step, log), $: shell };
}
