// Progress is a cache of what the kernel cannot tell us: which steps were passed, attempts,
// hints shown and each chapter's nonce. The only writer of state.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, fsyncSync, writeFileSync, closeSync, renameSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { WorkshopError } from '../errors.ts';

export const STATE_FORMAT = 1;

export interface StepProgress {
  attempts: number;
  hintsShown: number;
  /** set when the step passed: who made it pass, and when */
  done?: { at: string; by: 'learner' | 'solve' };
}

export interface ChapterProgress {
  nonce: string;
  startedAt: number;
  steps: Record<string, StepProgress>;
}

export interface State {
  formatVersion: typeof STATE_FORMAT;
  current: { chapter: string; step: string } | null;
  chapters: Record<string, ChapterProgress>;
}

export const emptyState = (): State => ({ formatVersion: STATE_FORMAT, current: null, chapters: {} });

export const newNonce = (): string => randomBytes(6).toString('hex');

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates parsed JSON; returns a reason when it is not a state this version can use. */
export function validateState(v: unknown): { ok: true; state: State } | { ok: false; reason: string } {
  if (!isRecord(v)) return { ok: false, reason: 'not a JSON object' };
  if (v['formatVersion'] !== STATE_FORMAT) return { ok: false, reason: `unknown formatVersion ${JSON.stringify(v['formatVersion'])} (this workshop reads ${STATE_FORMAT})` };
  const cur = v['current'];
  if (cur !== null && !(isRecord(cur) && typeof cur['chapter'] === 'string' && typeof cur['step'] === 'string')) return { ok: false, reason: '"current" is malformed' };
  const chapters = v['chapters'];
  if (!isRecord(chapters)) return { ok: false, reason: '"chapters" is not an object' };
  for (const [id, c] of Object.entries(chapters)) {
    if (!isRecord(c) || typeof c['nonce'] !== 'string' || typeof c['startedAt'] !== 'number' || !isRecord(c['steps'])) return { ok: false, reason: `chapter "${id}" is malformed` };
    for (const [sid, s] of Object.entries(c['steps'])) {
      if (!isRecord(s) || typeof s['attempts'] !== 'number' || typeof s['hintsShown'] !== 'number') return { ok: false, reason: `step "${id}/${sid}" is malformed` };
    }
  }
  return { ok: true, state: v as unknown as State };
}

/**
 * Reads state.json. A missing file is a fresh start. A corrupt one is kept aside as
 * state.json.corrupt-<time> (never deleted: it may hold a learner's progress) and reported.
 */
export function loadState(path: string, now: Date = new Date()): State {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new WorkshopError('state', `cannot read ${path}: ${(err as Error).message}`, 'check the permissions of WORKSHOP_HOME, or run as root');
  }
  let reason: string;
  try {
    const checked = validateState(JSON.parse(text));
    if (checked.ok) return checked.state;
    reason = checked.reason;
  } catch (err) {
    reason = (err as Error).message;
  }
  const kept = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(path, kept);
  } catch (err) {
    throw new WorkshopError('state', `${path} is corrupt (${reason}) and could not be moved aside: ${(err as Error).message}`);
  }
  throw new WorkshopError('state', `${path} was corrupt (${reason}); it is kept as ${kept}`, 'run the command again to start over with fresh progress, or repair the kept file and move it back');
}

/** Writes atomically: a temp file in the same folder, fsync, rename, fsync the folder. */
export function saveState(path: string, state: State): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeFileSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export function stepProgress(state: State, chapter: string, step: string): StepProgress {
  const c = state.chapters[chapter];
  if (!c) throw new Error(`chapter ${chapter} has not started`);
  let s = c.steps[step];
  if (!s) {
    s = { attempts: 0, hintsShown: 0 };
    c.steps[step] = s;
  }
  return s;
}

export const isDone = (state: State, chapter: string, step: string): boolean =>
  state.chapters[chapter]?.steps[step]?.done !== undefined;
