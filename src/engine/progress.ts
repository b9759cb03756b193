// Progress is a cache of what the kernel cannot tell us: which steps were passed, attempts,
// hints shown and each chapter's nonce. Only the Journey calls these: it is the one owner.
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envError, WorkshopError } from '../errors.ts';
import { readRegularFile } from '../sys/files.ts';
import { isRecord, randomBytes } from '../sys/lang.ts';

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

// node:crypto costs ~65M instructions to load (callgrind), more than the rest of `workshop status`:
// only a chapter's start needs it.
export const newNonce = (): string => randomBytes(6).toString('hex');

/** A nonce is pasted into commands shown to the learner, so only plain tokens are accepted. */
export const NONCE = /^[a-z0-9]{4,32}$/;
const ID = /^[a-z0-9][a-z0-9-]*$/;
const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 1e9;

export type Checked = { ok: true; state: State; dropped: string[] } | { ok: false; reason: string; newer?: boolean };

/**
 * Validates parsed JSON, salvaging what is valid: one bad step or chapter is dropped (and named
 * in `dropped`), never the learner's whole progress. Only a value that is not a state at all, or
 * one from a newer workshop, is refused.
 */
export function validateState(v: unknown): Checked {
  if (!isRecord(v)) return { ok: false, reason: 'not a JSON object' };
  const fv = v['formatVersion'];
  if (typeof fv === 'number' && fv > STATE_FORMAT) return { ok: false, newer: true, reason: `it was written by a newer workshop (formatVersion ${fv}; this one reads ${STATE_FORMAT})` };
  if (fv !== STATE_FORMAT) return { ok: false, reason: `unknown formatVersion ${JSON.stringify(fv)?.slice(0, 40)} (this workshop reads ${STATE_FORMAT})` };
  const dropped: string[] = [];
  const state = emptyState();
  const cur = v['current'];
  if (isRecord(cur) && typeof cur['chapter'] === 'string' && typeof cur['step'] === 'string' && ID.test(cur['chapter']) && ID.test(cur['step'])) state.current = { chapter: cur['chapter'], step: cur['step'] };
  else if (cur !== null) dropped.push('"current" is malformed: you are back at the first step not done');
  const chapters = v['chapters'];
  if (!isRecord(chapters)) {
    if (chapters !== undefined) dropped.push('"chapters" is not an object');
    return { ok: true, state, dropped };
  }
  for (const [id, c] of Object.entries(chapters)) {
    if (!ID.test(id) || !isRecord(c) || typeof c['nonce'] !== 'string' || !NONCE.test(c['nonce']) || typeof c['startedAt'] !== 'number' || !Number.isFinite(c['startedAt'])) {
      dropped.push(`chapter "${id.slice(0, 40)}" is malformed`);
      continue;
    }
    const steps: Record<string, StepProgress> = {};
    const raw = isRecord(c['steps']) ? c['steps'] : {};
    if (!isRecord(c['steps'])) dropped.push(`chapter "${id}": "steps" is not an object`);
    for (const [sid, s] of Object.entries(raw)) {
      if (!ID.test(sid) || !isRecord(s) || !count(s['attempts']) || !count(s['hintsShown'])) {
        dropped.push(`step "${id}/${sid.slice(0, 40)}" is malformed`);
        continue;
      }
      const sp: StepProgress = { attempts: s['attempts'], hintsShown: s['hintsShown'] };
      const done = s['done'];
      if (isRecord(done) && typeof done['at'] === 'string' && (done['by'] === 'learner' || done['by'] === 'solve')) sp.done = { at: done['at'], by: done['by'] };
      else if (done !== undefined) dropped.push(`step "${id}/${sid}": "done" is malformed`);
      steps[sid] = sp;
    }
    state.chapters[id] = { nonce: c['nonce'], startedAt: c['startedAt'], steps };
  }
  return { ok: true, state, dropped };
}

export interface Loaded {
  state: State;
  /** what salvage dropped, or why the file was kept aside; for a warning */
  warnings: string[];
}

const stamp = (now: Date) => now.toISOString().replace(/[:.]/g, '-');

/**
 * Reads state.json. A missing file is a fresh start. `mutating` is true only for a command that
 * will write: then a corrupt file is kept aside (never deleted: it may hold a learner's progress)
 * and a salvaged one is backed up before it is rewritten. A read-only command never moves or
 * writes anything. A file from a newer workshop is refused and left untouched.
 */
export function readState(path: string, mutating: boolean, now: Date = new Date()): Loaded {
  let text: string;
  try {
    text = readRegularFile(path);
  } catch (err) {
    if (err instanceof WorkshopError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { state: emptyState(), warnings: [] };
    throw envError(`cannot read ${path}: ${e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : (e.code ?? e.message)}`, 'check the permissions of WORKSHOP_HOME, or run as root');
  }
  // An editor on another system may save the file with a byte-order mark; it is not corruption.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let checked: Checked;
  try {
    checked = validateState(JSON.parse(text));
  } catch (err) {
    // JSON.parse quotes the text it failed on; a garbage file must not be echoed to the terminal
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    checked = { ok: false, reason: `not valid JSON${at ? ` (at byte ${at})` : ''}` };
  }
  if (checked.ok) {
    const warnings = checked.dropped.map((d) => `state.json: ${d}; dropped, the rest of your progress is kept`);
    if (warnings.length > 0 && mutating) {
      const kept = `${path}.salvaged-${stamp(now)}`;
      try {
        copyFileSync(path, kept);
        warnings.push(`state.json: the original is kept as ${kept}`);
      } catch {
        // the backup is a courtesy; the salvaged state is still right
      }
    }
    overlayHintCounts(checked.state, path);
    return { state: checked.state, warnings };
  }
  if (checked.newer) throw new WorkshopError('state', `${path} cannot be read: ${checked.reason}`, 'update workshop (sudo bash vagrant/provision.sh); the file is left as it is');
  if (!mutating) return { state: emptyState(), warnings: [`${path} is corrupt (${checked.reason}); showing a fresh start. The next command that records progress keeps the file aside.`] };
  const kept = `${path}.corrupt-${stamp(now)}`;
  try {
    renameSync(path, kept);
  } catch (err) {
    throw envError(`${path} is corrupt (${checked.reason}) and could not be moved aside: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, `move it away yourself: mv ${path} ${kept}`);
  }
  return { state: emptyState(), warnings: [`${path} was corrupt (${checked.reason}); it is kept as ${kept}, and progress starts over`] };
}

/** Writes atomically: a temp file in the same folder, fsync, rename, fsync the folder. */
export function saveState(path: string, state: State): void {
  writeJsonAtomic(path, state, 'your progress was not saved');
}

// ---- hint counts: beside state.json, cheaper to write -------------------------------------------
//
// `workshop hint` wrote state.json under the lock with two fsyncs, as progress is written: half its
// cost beyond `show` (issue 26). A hint count is worth less than progress: after a power cut a
// learner may see hint 1 again, but must never lose a passed step. So `hint` writes the counts to a
// file of their own, hints-shown.json, atomically (a temp file and a rename: never half a file) but
// without fsync and without the lock. A power cut may leave it old, empty or missing; what cannot
// be read counts as no hints shown, and state.json, which `hint` never writes, is untouched. Every
// read of state.json takes the larger of the two counts (a count belongs to a chapter's nonce, so a
// reset chapter starts at 0 again), and the next progress write keeps it in state.json, with fsync.

type HintCounts = Record<string, { nonce: string; steps: Record<string, number> }>;

export const hintCountsPath = (statePath: string): string => join(dirname(statePath), 'hints-shown.json');

/** The counts in hints-shown.json that belong to a started chapter (its nonce) raise the state's. */
function overlayHintCounts(state: State, statePath: string): void {
  let file: unknown;
  try {
    file = JSON.parse(readRegularFile(hintCountsPath(statePath)));
  } catch {
    return; // none, or lost: the counts in state.json stand
  }
  const chapters = isRecord(file) ? file['chapters'] : undefined;
  if (!isRecord(chapters)) return;
  for (const [id, c] of Object.entries(chapters)) {
    const cp = state.chapters[id];
    if (!cp || !isRecord(c) || c['nonce'] !== cp.nonce || !isRecord(c['steps'])) continue;
    for (const [sid, n] of Object.entries(c['steps'])) {
      if (!ID.test(sid) || !count(n)) continue;
      const sp = (cp.steps[sid] ??= { attempts: 0, hintsShown: 0 });
      sp.hintsShown = Math.max(sp.hintsShown, n);
    }
  }
}

/** Writes every started chapter's hint counts to hints-shown.json: atomic, not durable (see above). */
export function saveHintCounts(statePath: string, state: State): void {
  const chapters: HintCounts = {};
  for (const [id, c] of Object.entries(state.chapters)) {
    const steps = Object.fromEntries(Object.entries(c.steps).flatMap(([sid, sp]) => (sp.hintsShown > 0 ? [[sid, sp.hintsShown]] : [])));
    if (Object.keys(steps).length > 0) chapters[id] = { nonce: c.nonce, steps };
  }
  writeJsonAtomic(hintCountsPath(statePath), { format: 1, chapters }, 'the hint count was not kept', 'no-fsync');
}

/**
 * Writes a JSON file as saveState does (drills.json too); `lost` says what a failed write loses.
 * `no-fsync` is for what may be lost in a power cut (hint counts): still atomic, never half a file.
 */
export function writeJsonAtomic(path: string, value: unknown, lost: string, durability: 'fsync' | 'no-fsync' = 'fsync'): void {
  const dir = dirname(path);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeFileSync(fd, `${JSON.stringify(value, null, 2)}\n`);
      if (durability === 'fsync') fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    if (durability === 'no-fsync') return;
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOSPC' ? 'the disk is full' : e.code === 'EROFS' ? 'the file system is read-only' : e.code === 'EISDIR' ? 'it is a directory' : (e.code ?? e.message);
    throw envError(`cannot write ${path}: ${why}`, `${lost}; make ${dir} writable (run as root; chattr -i if it is immutable) and run the command again`);
  }
}

export const isDone = (state: State, chapter: string, step: string): boolean =>
  state.chapters[chapter]?.steps[step]?.done !== undefined;
