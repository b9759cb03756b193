// What workshop and its lesson host (host.ts and host-child.ts) say to each other, and the data of
// a chapter as the engine sees it. Every message crosses a process boundary by structured clone
// (Node's "advanced" IPC serialization), so nothing here holds a function.
import type { CheckResult } from '../checks/check.ts';
import { isRecord } from '../sys/lang.ts';
import type { StateSpec } from '../contract/state.ts';
import { safeString } from '../errors.ts';
import type { LessonProblem } from './catalog.ts';
import type { ChapterPlace } from './context.ts';
import type { MutantRecovery, OutsidePath, Probe } from './define.ts';
import type { KeyAt } from './scan.ts';
import type { ChapterSource } from './validate.ts';

/** A mutant as data: what its failure must name, whether it has its own revert, and how the learner leaves it. */
export interface MutantData {
  diagnosis?: RegExp;
  revert: boolean;
  recovery: MutantRecovery;
}

/** A control as data: whether it has its own revert. */
export interface ControlData {
  revert: boolean;
}

/** A step as data: its hints, what it undoes on purpose, its mutants and controls by name. */
export interface StepData {
  hints: readonly string[];
  undoes?: readonly string[] | '*';
  mutants: Readonly<Record<string, MutantData>>;
  controls: Readonly<Record<string, ControlData>>;
}

/** A chapter as data, read in the lesson host from its steps.ts; its functions stay there. */
export interface ChapterData {
  id: string;
  title: string;
  /** what each requirement describes, in order; its probe runs in the host */
  requires: readonly string[];
  /** it has a setup hook */
  setup: boolean;
  /** it has the hooks of these names, which return data (see {@link Ask}) */
  env: boolean;
  removes: boolean;
  shellVars: boolean;
  steps: Readonly<Record<string, StepData>>;
  state?: StateSpec;
  madeOutside?: readonly OutsidePath[];
}

/** Lesson code that runs on its own: a chapter hook, a step's solution, or a mutant's or control's apply/revert. */
export type Hook =
  | { kind: 'setup' }
  | { kind: 'cleanup' }
  | { kind: 'solve'; step: string }
  | { kind: 'mutant' | 'control'; step: string; name: string; action: 'apply' | 'revert' };

export type HostRequest =
  /** the parent's environment, sent before the first request (main.ts sets FORCE_COLOR late); answered with `ready` */
  | { op: 'env'; id: number; vars: Record<string, string> }
  | { op: 'load'; id: number; chapter: ChapterSource; keys?: readonly KeyAt[] }
  | { op: 'verify'; id: number; chapter: string; step: string; place: ChapterPlace }
  | { op: 'run'; id: number; chapter: string; hook: Hook; place: ChapterPlace; verbose: boolean }
  | { op: 'probe'; id: number; chapter: string; index: number }
  | { op: 'ask'; id: number; chapter: string; ask: Ask; place: ChapterPlace }
  /** lint's questions to the chapter's code (inspect.ts): answered with `problems` */
  | { op: 'inspect'; id: number; chapter: string; place: ChapterPlace };

/** A chapter hook that answers with data: `env` and `shellVars` with variables, `removes` with lines. */
export type Ask = 'env' | 'removes' | 'shellVars';

/** One check of a verify, as the host runs it: its name and its time limit (scaled). */
export interface CheckPlan {
  name: string;
  limitMs: number;
}

/** Whose fault a failed call is: the lesson code's own (it can never work), or what it threw. */
export type Fault = 'lesson' | 'threw';

export type HostReply =
  | { id: number; type: 'log'; line: string }
  | { id: number; type: 'loaded'; chapter: ChapterData }
  | { id: number; type: 'problems'; problems: LessonProblem[] }
  | { id: number; type: 'checks'; checks: CheckPlan[] }
  | { id: number; type: 'result'; index: number; result: CheckResult }
  | { id: number; type: 'probed'; probe: Probe }
  | { id: number; type: 'answer'; value: Record<string, string> | string[] }
  | { id: number; type: 'done' }
  /**
   * The call failed. `fault: 'lesson'` when the lesson code itself is at fault (it called
   * process.exit, never settled, threw where nothing catches it), not what it ran into ('threw').
   */
  | { id: number; type: 'failed'; error: string; fault: Fault }
  /** what zx prints for a verbose solution (each command, its output), for the parent's stderr */
  | { type: 'output'; text: string }
  /** the host's loop still turns: sent while a call runs, so that workshop can tell a frozen host */
  | { type: 'beat' }
  /** the answer to `env`: the host has started */
  | { type: 'ready' };

const text = (v: unknown): string => (typeof v === 'string' ? v : safeString(v));

/**
 * A check result that the engine can print: the three shapes of CheckResult with string fields,
 * whatever the lesson returned (a getter that throws, a number for `actual`, something else).
 * Applied in the host before sending and again in workshop on receipt.
 */
export function checkedResult(v: unknown, name: string): CheckResult {
  try {
    if (!isRecord(v)) throw new Error(`it returned ${text(v)}, not a check result (build checks with defineCheck)`);
    const check = typeof v['check'] === 'string' ? v['check'] : name;
    const status = v['status'];
    if (status === 'pass') return { status, check, actual: text(v['actual']) };
    if (status === 'error') return { status, check, error: text(v['error']) };
    if (status === 'fail') {
      const hint = v['hint'];
      const row = { status, check, expected: text(v['expected']), actual: text(v['actual']) } as const;
      return hint === undefined ? row : { ...row, hint: text(hint) };
    }
    throw new Error(`it returned status ${text(status)}: a check result is pass, fail or error`);
  } catch (err) {
    return { status: 'error', check: name, error: err instanceof Error ? err.message : 'it returned something that is not a check result' };
  }
}

/** A requirement's answer as the engine can use it. */
export function checkedProbe(v: unknown): Probe {
  try {
    if (isRecord(v) && v['ok'] === true) return { ok: true };
    if (isRecord(v) && v['ok'] === false) return { ok: false, reason: text(v['reason']) };
    return { ok: false, reason: `its probe returned ${text(v)}, not { ok, reason }` };
  } catch {
    return { ok: false, reason: 'its probe returned something that cannot be read' };
  }
}
