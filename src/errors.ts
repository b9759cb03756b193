// One error class for everything a user can get wrong. main.ts prints `error: <message>` and the
// hint, and exits with the code; a stack is shown only with DEBUG=workshop.

export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3, lesson: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Set when workshop gave up waiting for work that may never finish (a check past its time limit).
 * Lesson code runs in the lesson host (src/lessons/host.ts), a child process that workshop kills,
 * so there it only marks the host's own checks; main.ts still exits explicitly when it is set.
 */
export const abandoned = { work: false };

/** `String(v)`, or a fixed text when even that throws (an object whose toString throws). */
export function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return '(a value that cannot be shown: its toString throws)';
  }
}

/**
 * Why something failed, in one line, for whatever lesson code throws: a zx error (the command's
 * exit code and the end of its stderr), an Error, or any other value, even one whose `message`
 * getter or toString throws. Never throws: a lesson's strange error must never become a bug in
 * workshop.
 */
export function describeFailure(err: unknown): string {
  try {
    if (err && typeof err === 'object' && 'exitCode' in err && 'stderr' in err) {
      const e = err as { exitCode: unknown; stderr: unknown };
      const stderr = String(e.stderr).trim().split('\n').slice(-2).join(' / ');
      return `a command exited ${String(e.exitCode)}${stderr ? `: ${stderr}` : ''}`;
    }
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return 'it threw a value that cannot be shown (reading its message failed)';
  }
}

/**
 * Lesson code that failed by its own fault, not by what it ran into: it called process.exit, never
 * settled, froze or ended the lesson host. The lesson host (src/lessons/host.ts) throws it; a
 * caller that would blame the machine (a failed setup) blames the lesson instead.
 */
export class LessonFault extends Error {
  override name = 'LessonFault';
}

export type ErrorKind = 'usage' | 'environment' | 'lesson' | 'state';

const codeOf: Record<ErrorKind, ExitCode> = { usage: 2, environment: 3, lesson: 4, state: 3 };

export class WorkshopError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  constructor(kind: ErrorKind, message: string, hint?: string) {
    super(message);
    this.name = 'WorkshopError';
    this.kind = kind;
    this.hint = hint;
    this.exitCode = codeOf[kind];
  }
}

export const usageError = (message: string, hint?: string) => new WorkshopError('usage', message, hint);
export const envError = (message: string, hint?: string) => new WorkshopError('environment', message, hint);
export const lessonError = (message: string, hint?: string) => new WorkshopError('lesson', message, hint);

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(input) && input.length >= 2 ? 0.5 : distance(input, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}
