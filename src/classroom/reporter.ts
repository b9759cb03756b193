// The learner's side of the class: a Journey listener that turns each event into a report, queues
// it in the outbox and wakes a detached sender. The learner's command does no network I/O, so
// `next` is as fast with a class joined as without, whether the server is up or not.
import type { CheckResult } from '../checks/check.ts';
import type { JourneyEvent, JourneyListener } from '../engine/events.ts';
import { enqueue, queued, readMembership, senderLockPath } from './outbox.ts';
import type { Report, ReportRow } from './store.ts';
import { liveOwner } from '../sys/lock.ts';
import { randomUuid } from '../sys/lang.ts';

/** The server's limits (schemas.ts), kept here as numbers so this module stays light. */
const MAX_ROWS = 50;
const ROW_BYTES = 2048;

/** Cuts a string to at most `bytes` UTF-8 bytes, marking the cut with an ellipsis. */
export function clip(s: string, bytes: number): string {
  if (Buffer.byteLength(s) <= bytes) return s;
  let out = s.slice(0, bytes);
  while (Buffer.byteLength(`${out}…`) > bytes) out = out.slice(0, -1);
  return `${out}…`;
}

/** A check result as the row the learner saw; bounded to what the server accepts. */
export function rowOf(r: CheckResult): ReportRow {
  const row: ReportRow =
    r.status === 'pass'
      ? { check: r.check, status: 'pass', expected: '', actual: r.actual, hint: '' }
      : r.status === 'fail'
        ? { check: r.check, status: 'fail', expected: r.expected, actual: r.actual, hint: r.hint ?? '' }
        : { check: r.check, status: 'error', expected: '', actual: r.error, hint: '' };
  // a quarter of the row budget per field keeps every row under the limit
  const q = Math.floor(ROW_BYTES / 4);
  return { check: clip(row.check, q), status: row.status, expected: clip(row.expected, q), actual: clip(row.actual, q), hint: clip(row.hint, q) };
}

const rowsOf = (results: readonly CheckResult[]): ReportRow[] => results.slice(0, MAX_ROWS).map(rowOf);

/** What is sent for one Journey event: the step, the outcome, the rows; no commands, no files. */
export function reportOf(e: JourneyEvent, id: string = randomUuid()): Report {
  const base = { id, at: e.at, command: '', next: null, outcome: null, rows: [], attempts: 0, hints: 0 } as const;
  switch (e.type) {
    case 'started':
      return { ...base, kind: 'started', step: e.chapter, rows: [] };
    case 'reset':
      return { ...base, kind: 'reset', step: e.chapter, rows: [] };
    case 'attempted':
      return { ...base, kind: 'attempted', step: e.step, command: e.command, outcome: e.status, rows: rowsOf(e.results), attempts: e.attempts, hints: e.hintsShown };
    case 'solved':
      return { ...base, kind: 'solved', step: e.step, command: 'solve', outcome: e.status, rows: rowsOf(e.results), attempts: e.attempts, hints: e.hintsShown };
    case 'passed':
      return { ...base, kind: 'passed', step: e.step, command: e.by, next: e.next, rows: [], attempts: e.attempts, hints: e.hintsShown };
    case 'hinted':
      return { ...base, kind: 'hinted', step: e.step, rows: [], hints: e.hintsShown };
    case 'answered':
      // the question's id in the one row; what the learner typed stays on their machine
      return { ...base, kind: 'answered', step: e.step, outcome: e.result === 'right' ? 'pass' : 'fail', rows: [{ check: clip(e.question, 200), status: e.result === 'right' ? 'pass' : 'fail', expected: '', actual: '', hint: '' }], attempts: e.tries };
    case 'drilled':
      // which near-miss, and how it went: never what the learner typed
      return { ...base, kind: 'drilled', step: e.step, rows: [], outcome: e.state === 'started' ? null : e.state === 'fixed' ? 'pass' : 'fail', attempts: e.attempts, hints: e.hints, drill: { mutant: e.mutant, state: e.state, ms: Math.round(e.ms), round: e.round } };
  }
}

/** What `workshop classroom leave` queues last: the server then shows the learner as left. */
export function leftReport(id: string = randomUuid(), at: string = new Date().toISOString()): Report {
  return { id, at, kind: 'left', step: '', command: '', next: null, outcome: null, rows: [], attempts: 0, hints: 0 };
}

/** What `workshop ask` queues: a raised hand at the learner's current step, with their question. */
export function askedReport(step: string, question: string, id: string = randomUuid(), at: string = new Date().toISOString()): Report {
  return { id, at, kind: 'asked', step, command: '', next: null, outcome: null, rows: [], attempts: 0, hints: 0, question };
}

/** What `workshop clean` queues: that it ran, and whether it left nothing behind. Progress is kept. */
export function cleanedReport(clean: boolean, id: string = randomUuid(), at: string = new Date().toISOString()): Report {
  return { id, at, kind: 'cleaned', step: '', command: '', next: null, outcome: clean ? 'pass' : 'fail', rows: [], attempts: 0, hints: 0 };
}

/** True when a live sender holds the lock (the engine's, which knows a reused PID): then it will see new reports. */
const senderRunning = (home: string): boolean => liveOwner(senderLockPath(home)) !== undefined;

/**
 * Starts `workshop classroom __send` detached, unless a sender is already running. `cliPath` is the
 * built CLI (process.argv[1] in the workshop binary).
 */
export function startSender(home: string, cliPath: string): void {
  if (senderRunning(home)) return;
  // cwd /: the learner may be inside a mount that a later step unmounts (EBUSY), and `workshop
  // clean` names every process whose cwd is in the workspace.
  // node:child_process and node:crypto are fetched on first use (synchronously, so enqueue stays
  // synchronous): together they cost `workshop status` ~120M instructions (callgrind) otherwise.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(process.execPath, [cliPath, 'classroom', '__send', '--home', home], { cwd: '/', detached: true, stdio: 'ignore', env: process.env });
  child.on('error', () => {
    // the next command starts another; the reports stay queued
  });
  child.unref();
}

/**
 * The Journey listener of a home that joined a class; undefined (after one read of a small file)
 * when it has not. It queues each event and starts the sender after the first one. `cliPath` is
 * the built CLI that runs `classroom __send` (null: queue only, start no sender). No default: the
 * running script is not always the CLI, and a script that is started as its own sender forks on.
 */
export function classReporter(home: string, cliPath: string | null): JourneyListener | undefined {
  if (!readMembership(home)) return undefined;
  let woken = false;
  // Reports left from an earlier command (the server was down, or the sender gave up): this
  // command's sender takes them too.
  if (cliPath && queued(home).length > 0) {
    woken = true;
    startSender(home, cliPath);
  }
  return (event: JourneyEvent) => {
    enqueue(home, reportOf(event));
    if (!woken && cliPath) {
      woken = true;
      startSender(home, cliPath);
    }
  };
}
