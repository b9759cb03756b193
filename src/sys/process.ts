// Which process a PID names: a PID and its start time name one process, as PIDs are reused. The
// lockfile (sys/lock.ts) and the checks (checks/proc.ts, checks/namespaces.ts) both need it.
import { readFileSync } from 'node:fs';

/** Pure: the start time (field 22) from the text of /proc/PID/stat. The comm field may hold spaces and parentheses. */
export function parseStatStart(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // after ") " come the fields from 3 (state) on; start time is field 22
  const fields = stat.slice(close + 2).split(' ');
  const v = Number(fields[22 - 3]);
  return Number.isInteger(v) ? v : null;
}

/** When a process started (field 22 of /proc/PID/stat), or null when it is gone: a PID and its start time name one process. */
export function processStart(pid: number): number | null {
  try {
    return parseStatStart(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** A process with this PID exists (signal 0; EPERM means it exists but is not ours to signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
