// One error class for everything a user can get wrong. main.ts prints `error: <message>` and the
// hint, and exits with the code; a stack is shown only with DEBUG=workshop.

export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3, lesson: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Set when workshop gave up waiting for lesson code that may never finish (a steps.ts whose
 * import hangs, a check past its time limit). That code may still hold a timer or a socket, so
 * main.ts exits explicitly instead of waiting for the event loop to drain.
 */
export const abandoned = { work: false };

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
