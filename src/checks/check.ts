// The check model: one check is one fact about the kernel or the file system.
// A check never throws; a probe that cannot run becomes an `error` result.
import { abandoned } from '../errors.ts';
import { timeScale, type RunOptions, type RunResult } from '../sys/exec.ts';

/** What a check found: a pass, a fail with what was expected and what is there, or an error when the probe itself could not run. */
export type CheckResult =
  | { status: 'pass'; check: string; actual: string }
  | { status: 'fail'; check: string; expected: string; actual: string; hint?: string }
  | { status: 'error'; check: string; error: string };

/** What a check may read about the step it is verifying. */
export interface CheckContext {
  /** chapter id, e.g. `overlayfs` */
  readonly chapter: string;
  /**
   * The chapter's working folder; `cd $(workshop path)` goes here (a throw-away folder under
   * `selftest/` in `workshop test`). Absolute and normalized, but symlinks are not resolved: it is
   * the home as given (`--home`, WORKSHOP_HOME) plus the chapter's place. Compare it with a path
   * the kernel prints (mountinfo, /proc/PID/cwd) through `realpath`; the mount checks do.
   */
  readonly dir: string;
  /** WORKSHOP_HOME */
  readonly home: string;
  /** a random token written when the chapter starts; state built before it is stale */
  readonly nonce: string;
  /** when the chapter started (ms since the epoch), to reject stale state */
  readonly startedAt: number;
  /** a path inside the chapter folder */
  path(...parts: string[]): string;
  /**
   * Runs a command without a shell, in `/` unless `opts.cwd` says otherwise. It never throws, for a
   * non-zero exit or a missing binary: a command that fails in solve or cleanup goes unnoticed
   * unless you look at `code`. To fail loudly there, use `$` (zx throws on a non-zero exit) or
   * `runOk` (throws with the command and its stderr), or `if (r.code !== 0) throw new Error(…)`.
   */
  run(cmd: string, args?: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** One fact about the system, and how to find out whether it holds. Build one with {@link defineCheck}. */
export interface Check {
  readonly name: string;
  /** how long its probe may take before it is reported as an error (default CHECK_TIMEOUT_MS) */
  readonly timeoutMs?: number;
  /** runs the probe; never throws (a probe that cannot run is an `error` result) */
  run(ctx: CheckContext): Promise<CheckResult>;
}

/**
 * The default time limit of one check. Probes read /proc or run one small command, in
 * milliseconds; one that takes 10 s hangs (an nsenter into a dead namespace, a stuck mount).
 */
export const CHECK_TIMEOUT_MS = 10_000;

/** What a probe of {@link defineCheck} returns: build it with {@link pass} or {@link fail}. */
export type Verdict =
  | { ok: true; actual: string }
  | { ok: false; expected: string; actual: string; hint?: string };

/** The fact holds; `actual` says what was found (shown in `workshop check`). */
export const pass = (actual: string): Verdict => ({ ok: true, actual });
/** The fact does not hold: what was `expected`, what is `actual`ly there, and a `hint` that fits this state (a command that fixes it). */
export const fail = (expected: string, actual: string, hint?: string): Verdict =>
  hint === undefined ? { ok: false, expected, actual } : { ok: false, expected, actual, hint };

/**
 * Builds a check from a name and a probe. The probe returns a verdict; anything it throws
 * (EACCES, a missing tool, a parser that met unknown output) becomes an `error` result,
 * so one broken probe never hides the other checks of the step.
 */
export function defineCheck(name: string, probe: (ctx: CheckContext) => Promise<Verdict> | Verdict, opts: { timeoutMs?: number } = {}): Check {
  return {
    name,
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    async run(ctx) {
      try {
        const v = await probe(ctx);
        if (v.ok) return { status: 'pass', check: name, actual: v.actual };
        return v.hint === undefined
          ? { status: 'fail', check: name, expected: v.expected, actual: v.actual }
          : { status: 'fail', check: name, expected: v.expected, actual: v.actual, hint: v.hint };
      } catch (err) {
        return { status: 'error', check: name, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * Runs one check within its time limit. A probe that never settles becomes an `error` row with
 * the check's name, so `check` and `next` always finish (and release the lock) instead of hanging.
 */
export async function runCheck(check: Check, ctx: CheckContext): Promise<CheckResult> {
  const limit = (check.timeoutMs ?? CHECK_TIMEOUT_MS) * timeScale();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      abandoned.work = true;
      resolve({ status: 'error', check: check.name, error: `the check did not finish within ${seconds(limit)}: its probe hangs` });
    }, limit);
  });
  try {
    return await Promise.race([check.run(ctx).catch((err: unknown): CheckResult => ({ status: 'error', check: check.name, error: err instanceof Error ? err.message : String(err) })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the checks of one step concurrently, each within its time limit, keeping their order in the result. */
export async function runChecks(checks: readonly Check[], ctx: CheckContext): Promise<CheckResult[]> {
  return Promise.all(checks.map((c) => runCheck(c, ctx)));
}

export const allPassed = (results: readonly CheckResult[]): boolean =>
  results.length > 0 && results.every((r) => r.status === 'pass');

/** Runs another check and returns its result as a verdict, to compose checks whose paths are found at run time. */
export async function verdictOf(check: Check, ctx: CheckContext): Promise<Verdict> {
  const r = await check.run(ctx);
  if (r.status === 'pass') return pass(r.actual);
  if (r.status === 'fail') return fail(r.expected, r.actual, r.hint);
  throw new Error(r.error);
}
