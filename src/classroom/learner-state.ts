// A learner's state in the room, as the server computes it: the one rule that the dashboard, the
// API (`learners[].state`), `classroom status` and hosted labs share. Pure: facts in, state out.
//
// - left:     the learner ran `workshop classroom leave` (and has not joined again);
// - finished: every assigned step is done;
// - idle:     no command for `idleAfterMs` (--idle-after, default 5 min);
// - stuck:    on one step whose latest check failed, for at least `stuckAfterMs` (--stuck-after)
//             and with at least `stuckAttempts` attempts (--stuck-attempts): both, not either;
// - active:   anyone else.
// In that order: a learner who left or finished is never stuck, and one who went quiet is idle
// rather than stuck (the instructor cannot help someone who is not there).
// Stuck learners are ranked by their time on the step, then by their attempts (byNeed).

export type LearnerActivity = 'active' | 'idle' | 'stuck' | 'finished' | 'left';

export const ACTIVITIES: readonly LearnerActivity[] = ['active', 'idle', 'stuck', 'finished', 'left'];

export interface StateRules {
  idleAfterMs: number;
  stuckAfterMs: number;
  stuckAttempts: number;
}

export const DEFAULT_IDLE_AFTER_MS = 5 * 60_000;

/** What the rule looks at, from the class's events. Times in ms since the epoch. */
export interface LearnerFacts {
  presence: 'joined' | 'left';
  /** every assigned step is done */
  done: 'all' | 'some';
  lastSeenMs: number;
  /** when the current step became current; null when the learner has no current step */
  onStepSinceMs: number | null;
  /** the latest check of the current step */
  latest: 'failed' | 'passed' | 'none';
  /** attempts at the current step */
  attempts: number;
}

export interface LearnerStateOf {
  state: LearnerActivity;
  /** time on the failing step, when stuck; 0 otherwise */
  stuckForMs: number;
  /** why, in words, for a stuck or idle learner */
  reason: string | null;
}

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

export function learnerState(f: LearnerFacts, rules: StateRules, now: number): LearnerStateOf {
  if (f.presence === 'left') return { state: 'left', stuckForMs: 0, reason: null };
  if (f.done === 'all') return { state: 'finished', stuckForMs: 0, reason: null };
  const quietMs = Math.max(0, now - f.lastSeenMs);
  if (quietMs >= rules.idleAfterMs) return { state: 'idle', stuckForMs: 0, reason: `no command for ${minutes(quietMs)}` };
  const onStepMs = f.onStepSinceMs === null ? 0 : Math.max(0, now - f.onStepSinceMs);
  if (f.latest === 'failed' && f.onStepSinceMs !== null && onStepMs >= rules.stuckAfterMs && f.attempts >= rules.stuckAttempts) {
    return { state: 'stuck', stuckForMs: onStepMs, reason: `${minutes(onStepMs)} on this step, ${f.attempts} failed attempts` };
  }
  return { state: 'active', stuckForMs: 0, reason: null };
}

/** Who needs help first: the longest stuck, then the most attempts. */
export const byNeed = (a: { stuckForMs: number; attempts: number }, b: { stuckForMs: number; attempts: number }): number => b.stuckForMs - a.stuckForMs || b.attempts - a.attempts;
