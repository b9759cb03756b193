// The Journey's typed events: what happened to the learner's progress, with the check rows as the
// learner saw them. The classroom reporter is one subscriber; nothing else needs to know it exists.
import type { CheckResult } from '../checks/check.ts';

/** `chapter/step` */
export type StepAddress = string;

/** What the learner's commands did, as one union. `at` is an ISO timestamp. */
export type JourneyEvent =
  | { type: 'started'; at: string; chapter: string }
  | {
      type: 'attempted';
      at: string;
      step: StepAddress;
      /** the command that verified: `next` counts an attempt, `check` and `watch` do not */
      command: 'next' | 'check' | 'watch';
      status: 'pass' | 'fail' | 'error';
      results: readonly CheckResult[];
      attempts: number;
      hintsShown: number;
    }
  | { type: 'passed'; at: string; step: StepAddress; by: 'learner' | 'solve'; attempts: number; hintsShown: number; next: StepAddress | null }
  | { type: 'hinted'; at: string; step: StepAddress; hintsShown: number; total: number }
  | { type: 'solved'; at: string; step: StepAddress; status: 'pass' | 'fail' | 'error'; results: readonly CheckResult[]; attempts: number; hintsShown: number }
  | { type: 'reset'; at: string; chapter: string }
  /** a question of the step judged (issue 28): the class counts who was right on the first try */
  | { type: 'answered'; at: string; step: StepAddress; question: string; result: 'right' | 'wrong'; tries: number }
  /** a drill of the step started or ended (issue 28), apart from progress; `round`: the class round's id, if any */
  | { type: 'drilled'; at: string; step: StepAddress; mutant: string; state: 'started' | 'fixed' | 'gave-up' | 'abandoned'; ms: number; attempts: number; hints: number; round: number | null };

export type JourneyListener = (event: JourneyEvent) => void | Promise<void>;

/** pass when every check passed, error when any probe could not run, fail otherwise. */
export function outcomeOf(results: readonly CheckResult[]): 'pass' | 'fail' | 'error' {
  if (results.length > 0 && results.every((r) => r.status === 'pass')) return 'pass';
  return results.some((r) => r.status === 'error') ? 'error' : 'fail';
}
