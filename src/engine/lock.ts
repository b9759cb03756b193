// One mutating command at a time. The lock file holds the owner's PID; a lock whose owner is
// gone (a crash, a killed terminal) is stale and is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { WorkshopError } from '../errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  release(): void;
}

export function acquireLock(path: string, command: string): Lock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, command, at: new Date().toISOString() }), { flag: 'wx' });
      return {
        release() {
          rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: { pid?: unknown; command?: unknown } = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as typeof owner;
    } catch {
      // unreadable or half-written: treat as stale
    }
    if (typeof owner.pid === 'number' && owner.pid !== process.pid && alive(owner.pid)) {
      throw new WorkshopError('environment', `another workshop command is running (pid ${owner.pid}: workshop ${String(owner.command ?? '?')})`, `wait for it to finish, or stop it; the lock is ${path}`);
    }
    rmSync(path, { force: true }); // stale: its owner is gone
  }
  throw new WorkshopError('environment', `could not take the lock ${path}`);
}

export async function withLock<T>(path: string, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = acquireLock(path, command);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
